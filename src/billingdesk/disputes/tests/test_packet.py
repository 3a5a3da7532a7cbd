"""The evidence packet: what it holds (read back from the PDF's text), the fields mapped by
reason, and the parts left out with a clear note when they cannot be had."""

from __future__ import annotations

import pytest
from tests.fakes.helpdesks import FreshdeskFake

from billingdesk.disputes import packet as packet_module
from billingdesk.disputes.mapping import PLANS, plan_for
from billingdesk.disputes.models import RefundPolicy
from billingdesk.disputes.packet import packet_assemble
from billingdesk.documents.tests.conftest import pdf_text
from billingdesk.gateways.stripe.actions import STRIPE_FILE_EVIDENCE, STRIPE_TEXT_EVIDENCE
from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket

from .conftest import MESSAGE, POLICY, Case


def test_packet_holds_every_part_in_one_pdf(case: Case) -> None:
    packet = packet_assemble(dispute=case.dispute, user=case.agent)

    text = pdf_text(bytes(packet.pdf))
    assert "Evidence for dispute dp_1" in text
    assert "Charge ch_1" in text and "visa ending 4242" in text
    assert "Ada Lovelace" in text and "ada@example.com" in text
    assert "Subscription sub_1: Pro plan" in text
    assert MESSAGE in text and "Customer (ada@example.com)" in text
    assert "Support (agent@acme.example)" in text
    assert POLICY in text
    # The receipt as issued is appended after the packet's own pages.
    receipt = case.charge.documents.get()
    assert receipt.number in text
    assert packet.notes == []
    assert len(packet.pdf) <= packet_module.file_limit(case.account)


def test_fields_are_mapped_for_the_reason(case: Case) -> None:
    packet = packet_assemble(dispute=case.dispute, user=None)

    assert packet.file_field == "customer_communication"
    assert packet.cover_field == "uncategorized_text"
    assert packet.fields["customer_name"] == "Ada Lovelace"
    assert packet.fields["customer_email_address"] == "ada@example.com"
    cover = packet.fields["uncategorized_text"]
    assert "card ending 4242" in cover and "wrote to us 1 time(s)" in cover


@pytest.mark.parametrize(
    ("reason", "cover_field", "file_field"),
    [
        ("fraudulent", "uncategorized_text", "customer_communication"),
        ("unrecognized", "uncategorized_text", "customer_communication"),
        ("subscription_canceled", "cancellation_rebuttal", "cancellation_policy"),
        ("product_not_received", "uncategorized_text", "service_documentation"),
        ("product_unacceptable", "refund_refusal_explanation", "refund_policy"),
        ("credit_not_processed", "refund_refusal_explanation", "refund_policy"),
        ("duplicate", "duplicate_charge_explanation", "duplicate_charge_documentation"),
        ("general", "uncategorized_text", "uncategorized_file"),
        ("a_reason_stripe_adds_later", "uncategorized_text", "uncategorized_file"),
    ],
)
def test_each_reason_maps_to_stripe_fields(reason: str, cover_field: str, file_field: str) -> None:
    plan = plan_for(reason)
    assert (plan.cover_field, plan.file_field) == (cover_field, file_field)


def test_every_plan_names_only_fields_stripe_has() -> None:
    for plan in PLANS.values():
        assert {plan.cover_field, *plan.fields} <= STRIPE_TEXT_EVIDENCE
        assert plan.file_field in STRIPE_FILE_EVIDENCE


def test_subscription_canceled_states_the_cancellation(case: Case) -> None:
    case.dispute.reason = "subscription_canceled"
    case.dispute.save(update_fields=["reason"])
    packet = packet_assemble(dispute=case.dispute, user=None)
    rebuttal = packet.fields["cancellation_rebuttal"]
    assert "never cancelled" in rebuttal and "Pro plan" in rebuttal
    assert packet.fields["cancellation_policy_disclosure"] == "Checkout page"


def test_missing_policy_gives_a_packet_without_it_and_a_note(case: Case) -> None:
    RefundPolicy.objects.all().delete()
    packet = packet_assemble(dispute=case.dispute, user=None)

    assert any("No refund policy is configured" in note for note in packet.notes)
    assert POLICY not in pdf_text(bytes(packet.pdf))
    assert "Ada Lovelace" in pdf_text(bytes(packet.pdf))


def test_an_account_policy_wins_over_the_brand_one(case: Case) -> None:
    RefundPolicy.objects.create(account=case.account, refund_policy="No refunds after download.")
    text = pdf_text(bytes(packet_assemble(dispute=case.dispute, user=None).pdf))
    assert "No refunds after download." in text and POLICY not in text


def test_unreadable_helpdesk_gives_a_packet_without_messages(case: Case) -> None:
    case.zendesk.fail_next("/api/v2/tickets/501/comments.json", 503, times=5)
    packet = packet_assemble(dispute=case.dispute, user=None)

    assert any("ticket 501 in Zendesk could not be read" in n for n in packet.notes)
    text = pdf_text(bytes(packet.pdf))
    assert MESSAGE not in text and "Charge ch_1" in text


def test_a_document_too_large_for_the_gateway_is_left_out(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = case.charge.documents.get()
    whole = len(packet_assemble(dispute=case.dispute, user=None).pdf)
    limit = whole - 5_000  # the packet's own pages fit; with the receipt it would not
    monkeypatch.setitem(packet_module.FILE_LIMITS, "stripe", limit)
    packet = packet_assemble(dispute=case.dispute, user=None)

    assert any(f"{receipt.number}" in n and "left out" in n for n in packet.notes)
    assert len(packet.pdf) <= limit
    assert receipt.number not in pdf_text(bytes(packet.pdf))


FRESHDESK_MESSAGE = "My bank shows this charge twice; I only subscribed once."


def _freshdesk_ticket(case: Case, fake: FreshdeskFake) -> None:
    """The same person's ticket in a Freshdesk connection, on the Freshdesk fake."""
    connection = HelpdeskConnection.objects.create(
        name="Freshdesk",
        kind="freshdesk",
        settings={"domain": "acme", "api_base": fake.url},
        secrets={"api_key": "fd-key"},
    )
    assert case.charge.customer is not None
    HelpdeskTicket.objects.create(
        connection=connection,
        external_id="fd-1",
        ticket_id="77",
        person_id=case.charge.customer.person_id,
    )
    fake.ticket_add(77, email="ada@example.com", html=f"<p>{FRESHDESK_MESSAGE}</p>")
    fake.conversation_add(77, html="<p>Customer looks like a chargeback risk</p>",
                          at="2026-11-03T09:00:00Z", incoming=False, private=True,
                          email="agent@acme.example")  # fmt: skip
    fake.conversation_add(77, html="<p>Sorry, we refunded the duplicate.</p>",
                          at="2026-11-03T10:00:00Z", incoming=False,
                          email="agent@acme.example")  # fmt: skip


def test_packet_quotes_the_customer_from_a_freshdesk_ticket(case: Case) -> None:
    with FreshdeskFake(api_key="fd-key") as fake:
        _freshdesk_ticket(case, fake)
        packet = packet_assemble(dispute=case.dispute, user=None)

    text = pdf_text(bytes(packet.pdf))
    assert FRESHDESK_MESSAGE in text and "ticket 77" in text
    assert "Sorry, we refunded the duplicate." in text
    assert "chargeback risk" not in text  # the private note stays private
    assert MESSAGE in text  # the Zendesk ticket is still there
    assert packet.notes == []
    assert "wrote to us 2 time(s)" in packet.fields["uncategorized_text"]


def test_a_freshdesk_refusing_the_key_gives_a_packet_with_a_note(case: Case) -> None:
    with FreshdeskFake(api_key="another-key") as fake:
        _freshdesk_ticket(case, fake)
        packet = packet_assemble(dispute=case.dispute, user=None)

    assert any(
        "ticket 77 in Freshdesk could not be read" in n and "HTTP 401" in n for n in packet.notes
    )
    text = pdf_text(bytes(packet.pdf))
    assert FRESHDESK_MESSAGE not in text and MESSAGE in text
