"""MRR, ARR and the period's movements against an independent computation: every interval
normalised to a month, quantities, recurring discounts (percent and amount off; a one-off or
expired one ignored), trials and ended subscriptions left out, per currency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, getcontext
from fractions import Fraction

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.reports.selectors.subscriptions import movement_report, mrr_report

from .builders import account

pytestmark = pytest.mark.django_db

getcontext().prec = 40
PERIODS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


def _expected_monthly(amount, qty, interval, count, percent_off=0, amount_off=0) -> Decimal:
    per_invoice = Decimal(amount * qty) * (1 - Decimal(percent_off) / 100) - amount_off
    per_invoice = max(per_invoice, Decimal(0))
    return per_invoice * PERIODS_PER_YEAR[interval] / count / 12


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


NOW = timezone.now()
LONG_AGO = NOW - timedelta(days=400)


def _sub(gid, status, amount, currency, interval="month", count=1, qty=1, **extra):
    return gw.GwSubscription(
        id=gid, created=extra.pop("created", LONG_AGO), updated=NOW - timedelta(minutes=1),
        customer_id=extra.pop("customer", f"cus_{gid}"), status=status, amount=amount,
        currency=currency, interval=gw.Interval(interval), interval_count=count, quantity=qty,
        plan=extra.pop("plan", f"{interval}-{currency}"), **extra,
    )  # fmt: skip


A = gw.SubscriptionStatus.ACTIVE


@pytest.fixture
def subscriptions():
    acct = account("Subscriptions")
    objects = [
        _sub("s1", A, 1000, "EUR"),
        _sub("s2", A, 12000, "EUR", "year"),
        _sub("s3", A, 3000, "EUR", "month", count=3, qty=2),
        _sub("s4", A, 500, "USD", "week"),
        _sub("s5", gw.SubscriptionStatus.TRIALING, 5000, "EUR", trial_end=NOW + timedelta(days=3)),
        _sub("s6", A, 4000, "EUR", trial_end=NOW + timedelta(days=2)),
        _sub("s7", gw.SubscriptionStatus.CANCELED, 9000, "EUR", ended_at=NOW - timedelta(days=50)),
        _sub("s8", gw.SubscriptionStatus.PAST_DUE, 700, "EUR"),
        _sub("s9", A, 2000, "EUR", plan="discounted"),
        _sub("s10", A, 1000, "EUR", plan="discounted"),
        _sub("s11", A, 1000, "EUR", plan="discounted"),
        _sub("s12", A, 1000, "EUR", plan="discounted"),
        _sub("s13", A, 100, "USD", "day"),
        _sub("s14", A, 2500, "USD", "year", count=2, qty=3, customer="cus_wide"),
        gw.GwCoupon(id="quarter", updated=NOW, percent_off_bp=2500, duration="forever"),
        gw.GwCoupon(id="three", updated=NOW, amount_off=300, currency="EUR", duration="repeating"),
        gw.GwCoupon(id="once", updated=NOW, percent_off_bp=5000, duration="once"),
        gw.GwCoupon(id="tenth", updated=NOW, percent_off_bp=1000, duration="forever"),
        gw.GwDiscount(id="d9", updated=NOW, coupon_id="quarter", subscription_id="s9"),
        gw.GwDiscount(
            id="d10", updated=NOW, coupon_id="three", subscription_id="s10",
            end=NOW + timedelta(days=60),
        ),
        gw.GwDiscount(id="d11", updated=NOW, coupon_id="once", subscription_id="s11"),
        gw.GwDiscount(
            id="d12", updated=NOW, coupon_id="quarter", subscription_id="s12",
            end=NOW - timedelta(days=1),
        ),
        # A customer-wide discount applies to that customer's subscriptions.
        gw.GwDiscount(id="d14", updated=NOW, coupon_id="tenth", customer_id="cus_wide"),
    ]  # fmt: skip
    mirror_upsert(account=acct, objects=objects)
    return acct


def test_mrr_and_arr_per_currency(subscriptions):
    eur = (
        _expected_monthly(1000, 1, "month", 1)
        + _expected_monthly(12000, 1, "year", 1)
        + _expected_monthly(3000, 2, "month", 3)
        + _expected_monthly(700, 1, "month", 1)
        + _expected_monthly(2000, 1, "month", 1, percent_off=25)
        + _expected_monthly(1000, 1, "month", 1, amount_off=300)
        + _expected_monthly(1000, 1, "month", 1)  # a one-off coupon is not recurring
        + _expected_monthly(1000, 1, "month", 1)  # an expired discount
    )
    usd = (
        _expected_monthly(500, 1, "week", 1)
        + _expected_monthly(100, 1, "day", 1)
        + _expected_monthly(2500, 3, "year", 2, percent_off=10)
    )
    report = mrr_report()
    assert report.mrr == {"EUR": _round(eur), "USD": _round(usd)}
    assert report.arr == {"EUR": _round(eur) * 12, "USD": _round(usd) * 12}
    assert report.mrr["USD"] == 2167 + 3042 + 281  # 2166.67 + 3041.67 + 281.25
    assert report.trialing == {"EUR": 2}
    plans = {(p.plan, p.currency): (p.subscriptions, p.mrr) for p in report.plans}
    assert plans[("discounted", "EUR")] == (4, 1500 + 700 + 1000 + 1000)
    assert plans[("month-EUR", "EUR")] == (3, 1000 + 2000 + 700)  # s3: 3000 x 2 a quarter


def test_movements_and_cancellation_reasons():
    acct = account("Movements")
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    before = datetime(2026, 1, 10, tzinfo=UTC)
    inside = datetime(2026, 3, 10, tzinfo=UTC)
    objects = [
        _sub("m1", A, 1000, "EUR", created=before),  # there at the start, still there
        _sub("m2", A, 2000, "EUR", created=inside),  # new
        # New after a trial that ended inside the period.
        _sub("m3", A, 3000, "EUR", created=before, trial_end=inside),
        _sub(
            "m4", gw.SubscriptionStatus.CANCELED, 12000, "EUR", "year", created=before,
            canceled_at=inside, ended_at=inside,
        ),
        _sub(
            "m5", gw.SubscriptionStatus.CANCELED, 500, "EUR", created=before,
            canceled_at=inside, ended_at=inside + timedelta(days=1),
            raw={"cancellation_details": {"reason": "cancellation_requested"}},
        ),
        _sub(
            "m6", gw.SubscriptionStatus.CANCELED, 800, "EUR", created=before,
            ended_at=datetime(2026, 2, 1, tzinfo=UTC),
        ),  # ended before: not at the start
        _sub("m7", A, 900, "USD", created=before),
    ]  # fmt: skip
    mirror_upsert(account=acct, objects=objects)
    agent = User.objects.create_user("carla")
    ActionRequest.objects.create(
        idempotency_key="k1", kind=ActionKind.CANCEL_SUBSCRIPTION,
        status=ActionRequest.Status.SUCCEEDED, account=acct, target_kind="subscription",
        target_id="m4", requested_by=agent, reason_code="customer_request",
    )  # fmt: skip
    report = movement_report(start=start, end=end)
    eur = next(m for m in report.movements if m.currency == "EUR")
    # m1, m4, m5; m3 was in its trial at the start (no MRR), it is new when the trial ends.
    assert (eur.start_count, eur.start_mrr) == (3, 1000 + 1000 + 500)
    assert (eur.new_count, eur.new_mrr) == (2, 2000 + 3000)
    assert (eur.churned_count, eur.churned_mrr) == (2, 1000 + 500)
    assert eur.logo_churn is not None and eur.logo_churn == Fraction(2, 3)
    assert eur.revenue_churn is not None and eur.revenue_churn == Fraction(1500, 2500)
    usd = next(m for m in report.movements if m.currency == "USD")
    assert (usd.start_count, usd.churned_count, usd.new_count) == (1, 0, 0)
    assert {(c.source, c.reason, c.count) for c in report.cancellations} == {
        ("agent", "customer_request", 1),
        ("customer", "cancellation_requested", 1),
    }
