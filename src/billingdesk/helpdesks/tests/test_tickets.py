"""Tickets with a billing-context note, written by the real clients to each helpdesk's fake."""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.core.errors import (
    AuthenticationFailed,
    CapabilityMissing,
    InvalidRequest,
    RateLimited,
)
from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket
from billingdesk.helpdesks.services import ticket_create_with_context
from billingdesk.helpdesks.tests.conftest import TICKET_KINDS, wired
from billingdesk.panel.tests.factories import build_shop


def _note_texts(kind: str, fake: Any, ticket_id: str) -> list[str]:
    """The private notes the fake holds for a ticket, as text."""
    if kind == "zendesk":
        comments = fake.tickets[int(ticket_id)]["comments"]
        return [c["html_body"] for c in comments if c.get("public") is False]
    if kind == "helpscout":
        return [n["text"] for n in fake.conversations[int(ticket_id)]["notes"]]
    if kind == "intercom":
        return [
            p["body"] for p in fake.conversations[ticket_id]["parts"] if p["part_type"] == "note"
        ]
    if kind == "front":
        return [c["body"] for c in fake.comments[ticket_id]]
    if kind == "freshdesk":
        return [n["body"] for n in fake.tickets[int(ticket_id)]["notes"] if n["private"]]
    if kind == "chatwoot":
        msgs = fake.conversations[int(ticket_id)]["messages"]
        return [m["content"] for m in msgs if m["private"]]
    if kind == "zammad":
        articles = fake.tickets[int(ticket_id)]["articles"]
        return [a["body"] for a in articles if a.get("internal") is True]
    if kind == "freescout":
        threads = fake.conversations[int(ticket_id)]["threads"]
        return [t["text"] for t in threads if t["type"] == "note"]
    raise ValueError(kind)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_ticket_created_with_billing_note(kind: str, no_sleep: list[float]) -> None:
    # Given a customer with a charge and a subscription in the mirror
    shop = build_shop()
    with wired(kind) as w:
        # When a ticket is created for their email
        outcome = ticket_create_with_context(
            connection=w.connection,
            requester_email="Ana@Example.com",
            requester_name="Ana Lopez",
            subject="Question about my invoice",
            message="Why was I charged twice?",
            external_id="reply-1",
        )
        # Then the helpdesk holds the ticket and one private note with the billing context
        assert outcome.created and outcome.ticket_id
        assert outcome.person_id == shop.customer.person_id
        notes = _note_texts(kind, w.fake, outcome.ticket_id)
        assert len(notes) == 1
        note = notes[0]
        assert "Billing context" in note
        assert "50.00" in note  # the charge
        assert "Pro" in note or "pro" in note  # the subscription
        assert f"/console/person/{shop.customer.person_id}/" in note  # link into billingdesk

        # And a retry with the same external id opens nothing new
        again = ticket_create_with_context(
            connection=w.connection,
            requester_email="ana@example.com",
            subject="Question about my invoice",
            external_id="reply-1",
        )
        assert again.ticket_id == outcome.ticket_id and not again.created
        assert len(_note_texts(kind, w.fake, outcome.ticket_id)) == 1
        assert HelpdeskTicket.objects.filter(connection=w.connection).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_note_added_to_existing_ticket(kind: str, no_sleep: list[float]) -> None:
    with wired(kind) as w:
        first = ticket_create_with_context(
            connection=w.connection, requester_email="bob@example.com", subject="Hello"
        )
        second = ticket_create_with_context(
            connection=w.connection,
            requester_email="bob@example.com",
            subject="Hello",
            message="A follow-up by email",
            ticket_id=first.ticket_id,
        )
        assert second.ticket_id == first.ticket_id and not second.created
        notes = _note_texts(kind, w.fake, first.ticket_id)
        assert len(notes) == 2
        assert "No billing records found for bob@example.com" in notes[0]
        assert "A follow-up by email" in notes[1]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_rate_limit_is_retried_then_reported(kind: str, no_sleep: list[float]) -> None:
    with wired(kind) as w:
        # A 429 on the first call: retried after Retry-After, and the ticket is created.
        w.fake.fail_next("/", 429, times=1)
        outcome = ticket_create_with_context(
            connection=w.connection, requester_email="bob@example.com", subject="Hello"
        )
        assert outcome.ticket_id
        assert no_sleep  # it waited before retrying
        # Persistent 429s: a bounded number of tries, then a plain RateLimited error.
        w.fake.fail_next("/", 429, times=10)
        before = len(w.fake.requests)
        with pytest.raises(RateLimited) as exc:
            ticket_create_with_context(
                connection=w.connection, requester_email="bob@example.com", subject="Hello"
            )
        assert len(w.fake.requests) - before == 3
        assert "rate limiting" in exc.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_refused_credentials_are_reported_without_the_secret(
    kind: str, no_sleep: list[float]
) -> None:
    with wired(kind) as w:
        secrets = dict(w.connection.secrets)
        key = next(
            k
            for k in ("api_token", "app_secret", "access_token", "api_key", "api_access_token")
            if k in secrets
        )
        secrets[key] = "wrong-secret-value"
        w.connection.secrets = secrets
        w.connection.save()
        with pytest.raises(AuthenticationFailed) as exc:
            ticket_create_with_context(
                connection=w.connection, requester_email="bob@example.com", subject="Hello"
            )
        assert "wrong-secret-value" not in exc.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"requester_email": "not-an-email", "subject": "x"},
        {"requester_email": "a@example.com", "subject": ""},
        {"requester_email": "a@example.com", "subject": "x", "ticket_id": "../../admin"},
        {"requester_email": "a@example.com", "subject": "x", "person_id": 999999},
    ],
    ids=["email", "subject", "ticket-id", "person"],
)
def test_bad_input_is_refused_before_any_call(kwargs: dict[str, Any]) -> None:
    with wired("freshdesk") as w:
        with pytest.raises(InvalidRequest):
            ticket_create_with_context(connection=w.connection, **kwargs)
        assert w.fake.requests == []


@pytest.mark.django_db
def test_generic_iframe_has_no_ticket_api() -> None:
    conn = HelpdeskConnection.objects.create(
        name="any", kind="iframe", secrets={"signing_secret": "s"}
    )
    with pytest.raises(CapabilityMissing):
        ticket_create_with_context(connection=conn, requester_email="a@example.com", subject="x")


@pytest.mark.django_db
def test_front_waits_for_the_import_to_finish(
    no_sleep: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    from billingdesk.helpdesks.front import client as front_client

    monkeypatch.setattr(front_client.time, "sleep", lambda s: None)
    with wired("front") as w:
        w.fake.pending_lookups = 2  # type: ignore[attr-defined]
        outcome = ticket_create_with_context(
            connection=w.connection, requester_email="bob@example.com", subject="Hello"
        )
        assert outcome.ticket_id.startswith("cnv_")
        assert len(w.fake.calls("GET", r"/messages/.*")) == 3


@pytest.mark.django_db
def test_chatwoot_existing_contact_is_reused(no_sleep: list[float]) -> None:
    with wired("chatwoot") as w:
        ticket_create_with_context(
            connection=w.connection, requester_email="bob@example.com", subject="1"
        )
        ticket_create_with_context(
            connection=w.connection, requester_email="bob@example.com", subject="2"
        )
        assert len(w.fake.contacts) == 1  # type: ignore[attr-defined]
        assert len(w.fake.conversations) == 2  # type: ignore[attr-defined]


def test_secrets_are_encrypted_at_rest(db: None) -> None:
    from django.db import connection as db

    conn = HelpdeskConnection.objects.create(
        name="z", kind="zendesk", secrets={"api_token": "plain-token-123"}
    )
    with db.cursor() as cur:
        cur.execute("SELECT secrets FROM helpdesks_helpdeskconnection WHERE name = %s", ["z"])
        stored = cur.fetchone()[0]
    assert "plain-token-123" not in stored and stored.startswith("fernet:")
    assert HelpdeskConnection.objects.get(pk=conn.pk).secret("api_token") == "plain-token-123"
