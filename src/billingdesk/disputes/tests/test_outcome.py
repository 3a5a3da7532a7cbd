"""The bank's decision arrives by webhook (``charge.dispute.closed``) and updates the mirror
(a won dispute gives the charge back its paid state, also when a later copy of the charge
still says "disputed", as Stripe's does) and the review page (no answer once decided).
And the customer's messages are read through the helpdesk's own API client."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from billingdesk.billing.models import Charge, Dispute
from billingdesk.gateways.stripe.tests.helpers import event_json, post_event
from billingdesk.helpdesks.registry import provider_for
from billingdesk.reports.models import RevenueDay

from .conftest import MESSAGE, Case


def _after_the_case(seconds: int = 1) -> int:
    """An event's ``created`` strictly after the case was mirrored: the case's rows carry
    microseconds, an event stamped in the same whole second reads as older and is skipped
    (which made these tests pass or fail by the clock)."""
    return int(time.time()) + seconds


def _closed(status: str) -> dict[str, object]:
    return {
        "id": "dp_1",
        "object": "dispute",
        "charge": "ch_1",
        "amount": 4200,
        "currency": "eur",
        "status": status,
        "reason": "fraudulent",
        "created": 1900000000,
        "evidence_details": {"due_by": 1900000000, "submission_count": 1},
    }


@pytest.mark.parametrize(("status", "charge_status"), [("won", "captured"), ("lost", "disputed")])
def test_the_decision_by_webhook_updates_the_mirror(
    case: Case,
    client: Client,
    drain_tasks: Callable[[], None],
    status: str,
    charge_status: str,
) -> None:
    assert Charge.objects.get(pk=case.charge.pk).status == "disputed"
    closed = event_json("charge.dispute.closed", _closed(status), created=_after_the_case())
    response = post_event(client, case.account, closed)
    assert response.status_code == 200
    drain_tasks()

    assert Dispute.objects.get(pk=case.dispute.pk).status == status
    # Won, the charge is paid again (refunds offered); lost, the money stays held.
    assert Charge.objects.get(pk=case.charge.pk).status == charge_status
    # The revenue report counts a lost dispute, and no won one.
    lost = RevenueDay.objects.filter(account=case.account).aggregate(total=Sum("disputes_lost"))
    assert (lost["total"] or 0) == (4200 if status == "lost" else 0)
    client.force_login(case.agent)
    page = client.get(reverse("dispute-review", args=[case.dispute.pk])).content.decode()
    assert status.title() in page and 'id="submit-form"' not in page


def test_zendesk_messages_are_read_page_by_page_with_their_authors(case: Case) -> None:
    case.zendesk.comments_page_size = 1  # two comments: two pages, following next_page
    client = provider_for("zendesk").client(case.connection)
    assert client is not None

    messages = client.ticket_messages("501")

    assert [(m.author, m.from_customer) for m in messages] == [
        ("ada@example.com", True),
        ("agent@acme.example", False),
    ]
    assert messages[0].body == MESSAGE
    assert len(case.zendesk.calls("GET", r"/api/v2/tickets/501/comments\.json")) == 2


def test_a_won_charge_stays_paid_when_the_gateway_still_flags_it_disputed(
    case: Case, client: Client, drain_tasks: Callable[[], None]
) -> None:
    closed = event_json("charge.dispute.closed", _closed("won"), created=_after_the_case())
    post_event(client, case.account, closed)
    drain_tasks()
    charge = {
        "id": "ch_1", "object": "charge", "amount": 4200, "amount_captured": 4200,
        "amount_refunded": 0, "captured": True, "refunded": False, "status": "succeeded",
        "currency": "eur", "customer": "cus_1", "created": 1900000000, "disputed": True,
    }  # fmt: skip
    later = event_json("charge.updated", charge, event_id="evt_2", created=_after_the_case(2))
    post_event(client, case.account, later)
    drain_tasks()
    assert Charge.objects.get(pk=case.charge.pk).status == "captured"
