"""The rollup kept by the mirror's write path equals a full rebuild from the mirror after a
random stream of inserts, updates (captures, status changes), refunds, disputes, objects
arriving before what they refer to, stale versions and duplicates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.reports.models import RevenueDay
from billingdesk.reports.rollups import revenue_rollup_rebuild

from .builders import account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 28, tzinfo=UTC)
FIELDS = ("gross", "charges", "refunds", "refund_count", "disputes_lost", "dispute_lost_count")


def _rows() -> dict[tuple, tuple[int, ...]]:
    return {
        (r.day, r.account_id, r.currency, r.product): tuple(getattr(r, f) for f in FIELDS)
        for r in RevenueDay.objects.all()
    }


def _stream(rng: random.Random, accounts: list) -> list[tuple[object, gw.GatewayObject]]:
    """Gateway objects in the order a gateway might deliver them: out of order, twice, old."""
    events: list[tuple[object, gw.GatewayObject]] = []
    for n in range(60):
        acct = rng.choice(accounts)
        at = T0 + timedelta(hours=rng.randrange(0, 24 * 10), minutes=rng.randrange(60))
        currency = rng.choice(["EUR", "USD", "JPY"])
        amount = rng.randrange(100, 50000)
        product = rng.choice(["Pro", "Starter", ""])
        cid = f"ch_{n}"
        pending = gw.GwCharge(
            id=cid, created=at, updated=at, customer_id=None, amount=amount, currency=currency,
            status=gw.ChargeStatus.AUTHORIZED, product=product,
        )  # fmt: skip
        captured = gw.GwCharge(
            id=cid, created=at, updated=at + timedelta(minutes=5), customer_id=None,
            amount=amount, amount_captured=amount, currency=currency,
            status=gw.ChargeStatus.CAPTURED, product=product,
        )  # fmt: skip
        versions: list[gw.GatewayObject] = [pending, captured]
        if rng.random() < 0.4:
            part = rng.randrange(1, amount)
            refund_at = at + timedelta(days=rng.randrange(0, 5), hours=3)
            versions += [
                gw.GwRefund(
                    id=f"re_{n}", created=refund_at, updated=refund_at, charge_id=cid,
                    amount=part, currency=currency, status=gw.RefundStatus.PENDING,
                ),
                gw.GwRefund(
                    id=f"re_{n}", created=refund_at, updated=refund_at + timedelta(hours=1),
                    charge_id=cid, amount=part, currency=currency,
                    status=gw.RefundStatus.SUCCEEDED,
                ),
                gw.GwCharge(
                    id=cid, created=at, updated=refund_at + timedelta(hours=1),
                    customer_id=None, amount=amount, amount_captured=amount,
                    amount_refunded=part, currency=currency,
                    status=gw.ChargeStatus.PARTIALLY_REFUNDED, product=product,
                ),
            ]  # fmt: skip
        if rng.random() < 0.15:
            opened = at + timedelta(days=rng.randrange(1, 8))
            versions += [
                gw.GwDispute(
                    id=f"dp_{n}", created=opened, updated=opened, charge_id=cid, amount=amount,
                    currency=currency, status=gw.DisputeStatus.NEEDS_RESPONSE,
                ),
                gw.GwDispute(
                    id=f"dp_{n}", created=opened, updated=opened + timedelta(days=9),
                    charge_id=cid, amount=amount, currency=currency,
                    status=rng.choice([gw.DisputeStatus.LOST, gw.DisputeStatus.WON]),
                ),
            ]  # fmt: skip
        if rng.random() < 0.1:
            # The product renamed later: the charge's refunds and disputes follow it.
            versions.append(
                gw.GwCharge(
                    id=cid, created=at, updated=at + timedelta(days=30), customer_id=None,
                    amount=amount, amount_captured=amount, currency=currency,
                    status=gw.ChargeStatus.CAPTURED, product="Renamed",
                )
            )  # fmt: skip
        events += [(acct, v) for v in versions]
    rng.shuffle(events)  # out of order: refunds before charges, old versions after new ones
    events += rng.sample(events, len(events) // 3)  # duplicates
    return events


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_incremental_rollup_equals_rebuild(seed, zone):
    rng = random.Random(seed)
    with override_settings(TIME_ZONE=zone):
        accounts = [account(f"A{seed}"), account(f"B{seed}")]
        events = _stream(rng, accounts)
        i = 0
        while i < len(events):
            size = rng.choice([1, 1, 1, 3, 7])  # webhooks one by one, backfill pages
            batch = events[i : i + size]
            i += size
            for acct in {id(a): a for a, _ in batch}.values():
                mirror_upsert(account=acct, objects=[o for a, o in batch if a is acct])
        incremental = _rows()
        assert incremental, "the stream produced revenue"
        assert any(v[2] for v in incremental.values()), "and refunds"
        revenue_rollup_rebuild()
        assert _rows() == incremental


def test_a_refund_arriving_before_its_charge_moves_to_the_charges_product():
    acct = account("Early refunds")
    at = T0
    mirror_upsert(
        account=acct,
        objects=[
            gw.GwRefund(
                id="re_x", created=at, updated=at, charge_id="ch_x", amount=300,
                currency="EUR", status=gw.RefundStatus.SUCCEEDED,
            )
        ],
    )  # fmt: skip
    assert [(r.product, r.refunds) for r in RevenueDay.objects.all()] == [("", 300)]
    mirror_upsert(
        account=acct,
        objects=[
            gw.GwCharge(
                id="ch_x", created=at - timedelta(days=3), updated=at, customer_id=None,
                amount=1000, amount_captured=1000, amount_refunded=300, currency="EUR",
                status=gw.ChargeStatus.PARTIALLY_REFUNDED, product="Pro",
            )
        ],
    )  # fmt: skip
    rows = {(r.day, r.product): (r.gross, r.refunds) for r in RevenueDay.objects.all()}
    assert rows == {
        ((at - timedelta(days=3)).date(), "Pro"): (1000, 0),
        (at.date(), "Pro"): (0, 300),
    }
