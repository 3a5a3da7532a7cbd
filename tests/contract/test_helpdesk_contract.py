"""The helpdesk provider contract: proofs and tickets behave the same for every provider.

Proofs are checked through each provider's own launch URL (what the helpdesk calls), so the
uniform entry point under test is the provider's view, whatever its vendor's scheme. Chatwoot
is not in the proof cases: its dashboard app carries no proof (the agent signs in to
billingdesk instead, see docs/helpdesks/chatwoot.md). Tickets are written by each provider's
real client to its HTTP fake (tests/fakes/helpdesks.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.core.errors import AuthenticationFailed, InvalidRequest, UserFacingError
from billingdesk.helpdesks.interface import Note, TicketDraft
from billingdesk.helpdesks.registry import kinds, provider_for
from billingdesk.helpdesks.services import ticket_create_with_context
from billingdesk.helpdesks.tests.conftest import TICKET_KINDS, wired
from billingdesk.helpdesks.tests.test_tickets import _note_texts
from tests.contract.helpdesk_harness import HELPDESK_HARNESSES, HelpdeskHarness

PROOF_KINDS = sorted(HELPDESK_HARNESSES)


@pytest.fixture(params=PROOF_KINDS)
def hd(request: pytest.FixtureRequest, db: None) -> HelpdeskHarness:
    return HELPDESK_HARNESSES[request.param]()


def test_every_registered_provider_is_covered_by_the_suite() -> None:
    registered = {kind for kind, _ in kinds()}
    assert registered == set(PROOF_KINDS) | {"chatwoot"}
    assert set(TICKET_KINDS) == {k for k in registered if provider_for(k).client_class}


def _refused(response: Any) -> bool:
    return response.status_code in (400, 401, 403) and b"bd-embed" not in response.content


def test_a_valid_proof_opens_the_panel(hd: HelpdeskHarness) -> None:
    connection = hd.connection("s3cret-one")
    response = hd.launch(connection, secret="s3cret-one", proof="valid")
    assert response.status_code == 200


def test_a_tampered_proof_is_refused(hd: HelpdeskHarness) -> None:
    connection = hd.connection("s3cret-one")
    assert _refused(hd.launch(connection, secret="s3cret-one", proof="tampered"))


def test_a_stale_proof_is_refused(hd: HelpdeskHarness) -> None:
    connection = hd.connection("s3cret-one")
    response = hd.launch(connection, secret="s3cret-one", proof="stale")
    if hd.timed:
        assert _refused(response)
    else:
        # The vendor's proof carries no time (a body HMAC or a shared secret): nothing to expire.
        assert response.status_code == 200


def test_a_proof_for_another_connection_is_refused(hd: HelpdeskHarness) -> None:
    hd.connection("s3cret-one")
    other = hd.connection("s3cret-two")
    assert _refused(hd.launch(other, secret="s3cret-one", proof="valid"))
    assert hd.launch(other, secret="s3cret-two", proof="valid").status_code == 200


# --- tickets ---------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_ticket_create_append_and_note(kind: str, no_sleep: list[float]) -> None:
    with wired(kind) as w:
        client = provider_for(kind).client(w.connection)
        assert client is not None
        assert client.check().ok

        ref = client.ticket_create(
            TicketDraft(
                subject="Charged twice",
                requester_email="ana@example.com",
                requester_name="Ana Lopez",
                message="Why was I charged twice?",
                external_id="contract-1",
            )
        )
        assert ref.created and ref.ticket_id

        client.note_add(
            ref.ticket_id, Note(html="<p>Billing context</p>", markdown="Billing context")
        )
        assert any("Billing context" in text for text in _note_texts(kind, w.fake, ref.ticket_id))

        # A ticket billingdesk did not open for this requester is not theirs to write into.
        with pytest.raises(InvalidRequest):
            ticket_create_with_context(
                connection=w.connection,
                requester_email="ana@example.com",
                subject="Charged twice",
                message="Any news about my refund?",
                ticket_id=ref.ticket_id,
            )
        opened = ticket_create_with_context(
            connection=w.connection,
            requester_email="ana@example.com",
            subject="Charged twice",
            message="Why was I charged twice?",
            external_id="contract-open",
        )
        assert opened.created and opened.ticket_id

        # A reply on a ticket billingdesk opened for her: the customer's message goes there as
        # a note, no new ticket is opened, and a retry with the same external id adds nothing.
        ref = opened
        for _ in range(2):
            appended = ticket_create_with_context(
                connection=w.connection,
                requester_email="ana@example.com",
                subject="Charged twice",
                message="Any news about my refund?",
                ticket_id=ref.ticket_id,
                external_id="contract-reply",
            )
            assert appended.ticket_id == ref.ticket_id and not appended.created
        notes = _note_texts(kind, w.fake, ref.ticket_id)
        assert sum("Any news about my refund?" in text for text in notes) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_refused_helpdesk_credentials_are_authentication_failed(
    kind: str, no_sleep: list[float]
) -> None:
    with wired(kind) as w:
        secrets = dict(w.connection.secrets)
        token_name = next(
            n
            for n in ("api_token", "access_token", "api_key", "api_access_token", "app_secret")
            if n in secrets
        )
        w.connection.secrets = {**secrets, token_name: "revoked"}
        w.connection.save()
        client = provider_for(kind).client(w.connection)
        assert client is not None
        with pytest.raises(AuthenticationFailed) as caught:
            client.ticket_create(
                TicketDraft(subject="x", requester_email="ana@example.com", message="x")
            )
        assert isinstance(caught.value, UserFacingError)


# The opening message is written as the API token's user in these helpdesks (billingdesk does
# not yet author it as the requester): it reads back as Support's, not the customer's.
OPENED_AS_API_USER = {"zendesk", "chatwoot", "zammad"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_a_ticket_reads_back_its_messages_without_the_private_note(
    kind: str, no_sleep: list[float]
) -> None:
    with wired(kind) as w:
        client = provider_for(kind).client(w.connection)
        assert client is not None
        ref = client.ticket_create(
            TicketDraft(
                subject="Charged twice",
                requester_email="ana@example.com",
                message="Why was I charged twice?",
                external_id="contract-read",
            )
        )
        client.note_add(
            ref.ticket_id, Note(html="<p>Risky customer</p>", markdown="Risky customer")
        )

        messages = client.ticket_messages(ref.ticket_id)

        assert [m.body for m in messages] == ["Why was I charged twice?"]
        assert messages[0].from_customer is (kind not in OPENED_AS_API_USER)
