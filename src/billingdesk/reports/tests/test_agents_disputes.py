"""Refunds by reason (with a chart), every action per agent, and disputes with the dispute
rate per gateway account: each figure against an independent count of the same rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.billing.models import Charge, Dispute
from billingdesk.gateways import interface as gw
from billingdesk.panel.tests.factories import agent
from billingdesk.reports.selectors.agents import actions_by_agent, disputes_by_account

from .builders import account, charge, dispute

pytestmark = pytest.mark.django_db

MAY = date(2026, 5, 1), date(2026, 5, 31)


@pytest.fixture
def finance() -> Client:
    client = Client()
    client.force_login(agent("finance"))
    return client


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.fixture
def actions():
    acct = account("Actions")
    dora = User.objects.create_user("dora", first_name="Dora", last_name="Diaz")
    sam = User.objects.create_user("sam")
    made = [
        (dora, ActionKind.REFUND, "succeeded", 1000, "duplicate"),
        (dora, ActionKind.REFUND, "succeeded", 2500, "duplicate"),
        (dora, ActionKind.REFUND, "succeeded", 700, "requested_by_customer"),
        (sam, ActionKind.REFUND, "succeeded", 300, ""),
        (dora, ActionKind.CANCEL_SUBSCRIPTION, "succeeded", None, "too_expensive"),
        (dora, ActionKind.CANCEL_SUBSCRIPTION, "failed", None, "too_expensive"),
        (sam, ActionKind.CAPTURE, "pending_approval", 4000, ""),
        (sam, ActionKind.CAPTURE, "denied", 4000, ""),
    ]
    for n, (who, kind, status, amount, reason) in enumerate(made):
        ActionRequest.objects.create(
            idempotency_key=f"k{n}", kind=kind, status=status, account=acct, target_kind="charge",
            target_id=f"ch_{n}", requested_by=who, amount=amount, currency="EUR" if amount else "",
            reason_code=reason,
        )  # fmt: skip
    ActionRequest.objects.filter(idempotency_key="k0").update(
        created_at=datetime(2026, 5, 2, tzinfo=UTC)
    )
    ActionRequest.objects.exclude(idempotency_key="k0").update(
        created_at=datetime(2026, 5, 20, tzinfo=UTC)
    )
    return made


def test_every_action_per_agent_by_outcome(actions):
    rows = {(a.agent, a.kind): a for a in actions_by_agent(start=MAY[0], end=MAY[1])}
    expected: dict[tuple[str, str], list[int]] = {}
    for who, kind, status, _amount, _reason in actions:
        name = "Dora Diaz (dora)" if who.username == "dora" else who.username
        counts = expected.setdefault((name, kind), [0, 0, 0, 0, 0])
        counts[0] += 1
        counts[["succeeded", "failed", "denied"].index(status) + 1 if status in (
            "succeeded", "failed", "denied") else 4] += 1  # fmt: skip
    got = {k: [a.requested, a.succeeded, a.failed, a.denied, a.waiting] for k, a in rows.items()}
    assert got == expected
    assert got[("sam", "capture")] == [2, 0, 0, 1, 1]
    # Outside the period: nothing.
    assert actions_by_agent(start=date(2026, 6, 1), end=date(2026, 6, 30)) == []


def test_refunds_page_shows_reasons_chart_actions_and_csv_tables(finance, actions):
    query = "?start=2026-05-01&end=2026-05-31"
    page = finance.get("/reports/refunds/" + query)
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "<title>Duplicate payment: €35.00</title>" in html
        and "<title>No reason given: €3.00</title>" in html
    )
    assert "Cancel subscription" in html or "cancel subscription" in html.lower()
    assert "too_expensive" not in html  # reasons in words
    reasons = _csv(finance.get("/reports/refunds/" + query + "&format=csv&table=reasons"))
    assert reasons[0] == {"currency": "EUR", "reason": "duplicate", "refunds": "2",
                          "amount_minor": "3500", "amount": "35.00"}  # fmt: skip
    assert {r["reason"] for r in reasons} == {"duplicate", "requested_by_customer", ""}
    listed = _csv(finance.get("/reports/refunds/" + query + "&format=csv&table=actions"))
    assert {(r["agent"], r["action"], r["requested"]) for r in listed} >= {
        ("Dora Diaz (dora)", "refund", "3"), ("sam", "capture", "2")}  # fmt: skip
    bad = finance.get("/reports/refunds/" + query + "&format=csv&table=nope")
    assert bad.status_code == 400 and b"Unknown table" in bad.content
    french = finance.get("/reports/refunds/" + query + "&lang=fr").content.decode()
    assert "35,00\u00a0€" in french


def test_dispute_rate_per_account_from_the_rollup():
    eu, us = account("EU"), account("US", "USD")
    day = datetime(2026, 5, 3, 12, tzinfo=UTC)
    paid = [charge(eu, day + timedelta(days=i), 1000) for i in range(8)]
    charge(eu, datetime(2026, 4, 30, 12, tzinfo=UTC), 1000)  # before the period
    charge(eu, day, 1000, status=gw.ChargeStatus.FAILED)  # not a paid charge
    us_paid = [charge(us, day, 2000, "USD") for _ in range(4)]
    dispute(eu, paid[0], day, status=gw.DisputeStatus.LOST)
    dispute(eu, paid[1], day, status=gw.DisputeStatus.WON, amount=400)
    dispute(us, us_paid[0], day, status=gw.DisputeStatus.NEEDS_RESPONSE)
    dispute(eu, paid[2], datetime(2026, 6, 2, tzinfo=UTC))  # opened after the period
    rows = {(r.account, r.currency): r for r in disputes_by_account(start=MAY[0], end=MAY[1])}
    # Independently: paid charges and disputes opened in May, straight from the mirror.
    for (name, currency), row in rows.items():
        charges = Charge.objects.filter(
            account__name=name, currency=currency, status__in=("captured", "disputed"),
            gateway_created_at__date__gte=MAY[0], gateway_created_at__date__lte=MAY[1],
        ).count()  # fmt: skip
        opened = Dispute.objects.filter(
            account__name=name, gateway_created_at__date__gte=MAY[0],
            gateway_created_at__date__lte=MAY[1],
        )  # fmt: skip
        assert (row.charges, row.opened) == (charges, opened.count())
        assert row.amount == sum(d.amount for d in opened)
    eu_row, us_row = rows[("EU", "EUR")], rows[("US", "USD")]
    assert (eu_row.charges, eu_row.opened, eu_row.won, eu_row.lost) == (8, 2, 1, 1)
    assert eu_row.amount == 1000 + 400 and eu_row.rate == pytest.approx(2 / 8)
    assert (us_row.opened, us_row.charges) == (1, 4) and us_row.rate == pytest.approx(0.25)


def test_dispute_csv_gives_the_rate_as_a_decimal(finance):
    acct = account("Solo")
    day = datetime(2026, 5, 3, 12, tzinfo=UTC)
    paid = [charge(acct, day, 1000) for _ in range(3)]
    dispute(acct, paid[0], day)
    rows = _csv(finance.get("/reports/refunds/?start=2026-05-01&end=2026-05-31&format=csv"
                            "&table=disputes"))  # fmt: skip
    assert rows == [{"account_id": str(acct.pk), "account": "Solo", "currency": "EUR",
                     "charges": "3", "disputes": "1", "amount_minor": "1000", "amount": "10.00",
                     "won": "0", "lost": "1", "dispute_rate": "0.333333"}]  # fmt: skip
