"""Answering a dispute from the review page: submitted once under a double click, nothing
sent without the confirm step, accepting closes it; the banner, the finance list, refunds
refused on a disputed charge, reminders that never submit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.services import action_key_issue, action_submit
from billingdesk.billing.models import Charge, Dispute
from billingdesk.core.errors import NotAllowed
from billingdesk.disputes.models import EvidencePacket
from billingdesk.disputes.reminders import dispute_reminders_send
from billingdesk.panel.tests.factories import agent

from .conftest import Case


def _client(case: Case) -> Client:
    client = Client()
    client.force_login(case.agent)
    return client


def _packet(case: Case, client: Client) -> EvidencePacket:
    response = client.get(reverse("dispute-review", args=[case.dispute.pk]))
    assert response.status_code == 200
    assert "Submission is final" in response.content.decode()
    return EvidencePacket.objects.get(dispute=case.dispute)


def _form(case: Case, packet: EvidencePacket, **extra: str) -> dict[str, str]:
    return {
        "key": action_key_issue(user=case.agent),
        "packet": str(packet.pk),
        "cover_text": "The cardholder authorised this payment; see the packet.",
        "reason_code": "evidence_complete",
        "confirm": "final",
        **extra,
    }


def test_evidence_is_submitted_once_under_a_double_click(case: Case) -> None:
    client = _client(case)
    packet = _packet(case, client)
    form = _form(case, packet)
    url = reverse("dispute-submit", args=[case.dispute.pk])

    first = client.post(url, form)
    second = client.post(url, form)  # the same form, clicked twice

    assert first.status_code == second.status_code == 302
    assert case.stripe.calls("POST", "/v1/disputes/dp_1") == 1
    assert case.stripe.calls("POST", "/v1/files") == 1
    request = ActionRequest.objects.get(kind=ActionKind.DISPUTE_SUBMIT)
    assert request.status == ActionRequest.Status.SUCCEEDED
    sent = case.stripe.objects["dp_1"]["evidence"]
    assert sent["uncategorized_text"] == form["cover_text"]
    assert case.stripe.files[sent["customer_communication"]] == bytes(packet.pdf)
    case.dispute.refresh_from_db()
    assert case.dispute.status == "under_review"
    assert AuditEntry.objects.filter(action="dispute_submit", result="succeeded").count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"confirm": ""},  # the confirm step skipped
        {"cover_text": "   "},
        {"reason_code": "not-a-reason"},
        {"key": "forged"},
    ],
)
def test_bad_input_is_a_clear_400_and_nothing_is_sent(case: Case, bad: dict[str, str]) -> None:
    client = _client(case)
    packet = _packet(case, client)
    response = client.post(
        reverse("dispute-submit", args=[case.dispute.pk]), _form(case, packet, **bad)
    )

    assert response.status_code == 400
    assert 'id="dispute-error"' in response.content.decode()
    assert [p for m, p in case.stripe.requests if m == "POST"] == []
    assert not ActionRequest.objects.filter(status=ActionRequest.Status.SUCCEEDED).exists()


def test_accepting_closes_the_dispute_and_the_mirror_says_lost(case: Case) -> None:
    client = _client(case)
    _packet(case, client)
    response = client.post(
        reverse("dispute-accept", args=[case.dispute.pk]),
        {"key": action_key_issue(user=case.agent), "reason_code": "refund_due", "confirm": "final"},
    )
    assert response.status_code == 302
    assert case.stripe.objects["dp_1"]["status"] == "lost"
    assert Dispute.objects.get(pk=case.dispute.pk).status == "lost"


def test_finance_approval_as_a_setting(case: Case, settings: object) -> None:
    settings.DISPUTE_ANSWER_NEEDS_APPROVAL = True  # type: ignore[attr-defined]
    client = _client(case)
    packet = _packet(case, client)
    client.post(reverse("dispute-submit", args=[case.dispute.pk]), _form(case, packet))

    request = ActionRequest.objects.get(kind=ActionKind.DISPUTE_SUBMIT)
    assert request.status == ActionRequest.Status.PENDING_APPROVAL
    assert case.stripe.calls("POST", "/v1/disputes") == 0

    # Finance sees it among the approvals and approves: only then is it submitted.
    finance = Client()
    finance.force_login(agent("finance", "fiona"))
    assert finance.get(reverse("console-approvals")).status_code == 200
    finance.post(reverse("console-approval-decide", args=[request.pk]), {"decision": "approve"})
    request.refresh_from_db()
    assert request.status == ActionRequest.Status.SUCCEEDED
    assert case.stripe.calls("POST", "/v1/disputes/dp_1") == 1


def test_a_disputed_charge_is_shown_disputed_and_cannot_be_refunded(case: Case) -> None:
    charge = Charge.objects.get(pk=case.charge.pk)
    assert charge.status == "disputed"
    with pytest.raises(NotAllowed, match="disputed"):
        action_submit(
            user=case.agent,
            kind=ActionKind.REFUND,
            target=charge,
            params={"amount": 100},
            reason_code="requested_by_customer",
            reason_text="",
            idempotency_key=action_key_issue(user=case.agent),
        )
    assert case.stripe.calls("POST", "/v1/refunds") == 0


def test_the_open_dispute_tops_the_panel_and_the_person_page(case: Case) -> None:
    client = _client(case)
    assert case.charge.customer is not None
    person_id = case.charge.customer.person_id
    for url in (
        reverse("panel-person", args=[person_id]),
        reverse("console-person", args=[person_id]),
    ):
        page = client.get(url).content.decode()
        banner = page.index('id="open-disputes"')
        assert banner < page.index('id="records"') if 'id="records"' in page else True
        chunk = page[banner : banner + 1500]
        assert "Answer within 5 days" in chunk and "Fraudulent" in chunk
        assert reverse("dispute-review", args=[case.dispute.pk]) in chunk


def test_the_disputes_list_is_for_finance(case: Case) -> None:
    url = reverse("disputes-list")
    assert _client(case).get(url).status_code == 403
    finance = Client()
    finance.force_login(agent("finance", "fiona"))
    page = finance.get(url)
    assert page.status_code == 200 and "Answer within 5 days" in page.content.decode()
    assert finance.get(url, {"status": "bogus"}).status_code == 400
    assert finance.get(url, {"after": "damaged"}).status_code == 400


def test_reminders_go_once_and_never_submit(case: Case) -> None:
    fiona = agent("finance", "fiona")
    fiona.email = "fiona@acme.example"
    fiona.save()
    later = timezone.now() + timedelta(days=3)  # 2 days left: the "2 days" reminder is due

    assert dispute_reminders_send(now=later).sent == 1
    assert dispute_reminders_send(now=later).sent == 0
    (message,) = mail.outbox
    assert message.to == ["fiona@acme.example"] and "dp_1" in message.subject
    assert [p for m, p in case.stripe.requests if m == "POST"] == []


def test_taking_a_dispute_sends_its_reminders_to_you_too(case: Case) -> None:
    case.agent.email = "alice@acme.example"
    case.agent.save()
    client = _client(case)
    assert client.post(reverse("dispute-assign", args=[case.dispute.pk])).status_code == 302
    assert (
        "Assigned to alice"
        in client.get(reverse("dispute-review", args=[case.dispute.pk])).content.decode()
    )

    dispute_reminders_send(now=timezone.now() + timedelta(days=3))
    (message,) = mail.outbox
    assert message.to == ["alice@acme.example"]


def test_a_read_only_agent_cannot_take_or_answer_a_dispute(case: Case) -> None:
    client = Client()
    client.force_login(agent("read_only", "vera"))
    assert client.post(reverse("dispute-assign", args=[case.dispute.pk])).status_code == 403
    page = client.get(reverse("dispute-review", args=[case.dispute.pk])).content.decode()
    assert 'id="submit-form"' not in page


def test_the_generic_action_forms_do_not_take_dispute_answers(case: Case) -> None:
    client = _client(case)
    for kind in ("dispute_submit", "dispute_accept"):
        url = f"/console/actions/{kind}/charge/{case.charge.pk}/review/"
        assert client.post(url, {"key": "k"}).status_code == 404
