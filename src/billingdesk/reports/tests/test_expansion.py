"""Expansion and contraction MRR from the price history the mirror's writes keep: upgrades
and downgrades inside the period, one after it, one followed by a cancellation (churn, not
contraction), a new subscription changed in its first month (new, not expansion), a duplicate
and a stale event (no history row), and the seed of a mirror filled before the reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count

from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.reports.models import SubscriptionPrice
from billingdesk.reports.selectors.subscriptions import movement_report

from .builders import account

pytestmark = pytest.mark.django_db

A, C = gw.SubscriptionStatus.ACTIVE, gw.SubscriptionStatus.CANCELED
BEFORE = datetime(2026, 1, 10, tzinfo=UTC)
INSIDE = datetime(2026, 3, 10, tzinfo=UTC)
AFTER = datetime(2026, 4, 10, tzinfo=UTC)
MARCH = date(2026, 3, 1), date(2026, 3, 31)


def _sub(gid, amount, *, updated, interval="month", qty=1, status=A, created=BEFORE, **extra):
    return gw.GwSubscription(
        id=gid, created=created, updated=updated, customer_id=f"cus_{gid}", status=status,
        amount=amount, currency=extra.pop("currency", "EUR"), interval=gw.Interval(interval),
        interval_count=1, quantity=qty, plan="p", **extra,
    )  # fmt: skip


@pytest.fixture
def history():
    acct = account("Expansion")
    first = BEFORE + timedelta(days=1)
    mirror_upsert(account=acct, objects=[
        _sub("up", 1000, updated=first),
        _sub("down", 3000, updated=first),
        _sub("later", 1000, updated=first),
        _sub("gone", 1000, updated=first),
        _sub("yearly", 12000, updated=first, interval="year"),
        _sub("seats", 1000, updated=first, qty=2),
        _sub("same", 1000, updated=first),
        _sub("fresh", 700, updated=INSIDE, created=INSIDE),
    ])  # fmt: skip
    mirror_upsert(account=acct, objects=[
        _sub("up", 1500, updated=INSIDE),
        _sub("down", 2000, updated=INSIDE),
        _sub("later", 1500, updated=AFTER),
        _sub("gone", 400, updated=INSIDE),
        _sub("yearly", 24000, updated=INSIDE, interval="year"),
        _sub("seats", 1000, updated=INSIDE, qty=5),
        _sub("same", 1000, updated=INSIDE),  # a newer event, the same price
        _sub("fresh", 900, updated=INSIDE + timedelta(days=2), created=INSIDE),
    ])  # fmt: skip
    mirror_upsert(account=acct, objects=[
        _sub("gone", 400, updated=INSIDE + timedelta(days=3), status=C,
             canceled_at=INSIDE + timedelta(days=3), ended_at=INSIDE + timedelta(days=3)),
        _sub("up", 99999, updated=INSIDE - timedelta(days=1)),  # stale: the mirror keeps 1500
    ])  # fmt: skip
    return acct


def test_expansion_and_contraction_of_the_period(history):
    (eur,) = movement_report(start=MARCH[0], end=MARCH[1]).movements
    # Independently, by hand: up +500, yearly +12000/12, seats +3x1000; down -1000.
    assert (eur.expansion_count, eur.expansion_mrr) == (3, 500 + 1000 + 3000)
    assert (eur.contraction_count, eur.contraction_mrr) == (1, 1000)
    # "gone" changed price then ended: churn at its last price, not a contraction.
    assert eur.churned_count == 1 and eur.churned_mrr == 400
    # "fresh" started in the period: new at its current price, its change is not expansion.
    assert (eur.new_count, eur.new_mrr) == (1, 900)


def test_the_next_period_holds_the_later_upgrade(history):
    (eur,) = movement_report(start=date(2026, 4, 1), end=date(2026, 4, 30)).movements
    assert (eur.expansion_count, eur.expansion_mrr, eur.contraction_count) == (1, 500, 0)


def test_duplicate_and_stale_events_write_no_history(history):
    rows = dict(SubscriptionPrice.objects.values_list("subscription_ref").annotate(n=Count("id")))
    assert rows["same"] == 1 and rows["up"] == 2 and rows["gone"] == 2
    up = SubscriptionPrice.objects.filter(subscription_ref="up").order_by("at")
    assert [(r.at, Decimal(r.mrr_num) / r.mrr_den) for r in up] == [
        (BEFORE, Decimal(1000)),
        (INSIDE, Decimal(1500)),
    ]


def test_rebuild_seeds_a_first_row_for_subscriptions_without_history(history):
    SubscriptionPrice.objects.filter(subscription_ref__in=["same", "seats"]).delete()
    call_command("reports_rebuild")
    seeded = SubscriptionPrice.objects.filter(subscription_ref="seats").get()
    assert seeded.at == BEFORE and (seeded.mrr_num, seeded.mrr_den) == (5000, 1)
    assert SubscriptionPrice.objects.filter(subscription_ref="up").count() == 2  # untouched
    call_command("reports_rebuild")
    assert SubscriptionPrice.objects.filter(subscription_ref="seats").count() == 1
