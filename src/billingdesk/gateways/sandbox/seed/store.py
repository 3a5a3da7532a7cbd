"""The "EU store" demo account: coffee gear sold in euros across Europe."""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta
from functools import partial

from billingdesk.core.errors import CardDeclined
from billingdesk.gateways.sandbox.engine import Line, SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.gateways.sandbox.seed.history import (
    DECLINING,
    HISTORY,
    charge_try,
    customer_seed,
    moment_between,
    subscription_seed,
)
from billingdesk.gateways.sandbox.seed.people import EU_COUNTRIES, Human, vat_number

STORE_PRODUCTS = (
    ("Espresso machine", 34900),
    ("Burr grinder", 12900),
    ("Coffee beans 1 kg", 2490),
    ("Milk frother", 5900),
    ("Descaler pack", 990),
    ("Travel mug", 1990),
    ("Barista course", 8900),
    ("Gift card", 5000),
)


def store_seed(
    engine: SandboxEngine, rng: random.Random, people: list[Human], now: datetime
) -> None:
    start = now - HISTORY
    coupons = {
        "welcome": engine.coupon_create(name="WELCOME10", percent_off_bp=1000, created=start),
        # In the catalogue for agents to apply from the panel; the seed applies the others.
        "five": engine.coupon_create(name="COFFEE5", amount_off=500, currency="EUR", created=start),
        "loyalty": engine.coupon_create(
            name="LOYALTY15",
            percent_off_bp=1500,
            duration="repeating",
            duration_in_months=3,
            created=start,
        ),
        "club": engine.coupon_create(
            name="CLUB20", percent_off_bp=2000, duration="forever", created=start
        ),
    }
    order_number = 100_000
    for human in people:
        joined = moment_between(rng, start, now - timedelta(days=2))
        customer_id = customer_seed(engine, rng, human, joined, first_account=True)
        human.customer_ids["EU store"] = customer_id
        b2b = human.country in EU_COUNTRIES and rng.random() < 0.25
        if b2b:
            engine.tax_id_create(
                customer_id=customer_id,
                tax_type="eu_vat",
                value=vat_number(rng, human.country),
                created=joined,
            )
        if rng.random() < 0.06:
            engine.discount_create(
                coupon_id=coupons["welcome"].object_id, customer_id=customer_id, created=joined
            )
        orders = sorted(
            moment_between(rng, joined, now)
            for _ in range(rng.choices((1, 3, 6, 10, 18), (20, 30, 25, 15, 10))[0])
        )
        for at in orders:
            order_number += 1
            product, price = rng.choice(STORE_PRODUCTS)
            amount = price * rng.choice((1, 1, 1, 2))
            recent = now - at < timedelta(days=7)
            one_off_decline = rng.random() < 0.04
            charge = charge_try(
                partial(
                    engine.charge_create,
                    customer_id=customer_id,
                    amount=amount,
                    currency="EUR",
                    card_number=rng.choice(DECLINING) if one_off_decline else None,
                    capture=not (recent and rng.random() < 0.3),
                    description=f"Order EU-{order_number}",
                    product=product,
                    order_id=f"EU-{order_number}",
                    created=at,
                )
            )
            if charge is None:
                continue
            _after_store_charge(engine, rng, charge, at, now)
        if rng.random() < 0.15:
            subscription_seed(
                engine,
                rng,
                customer_id,
                rng.choice(("coffee-club-monthly", "coffee-club-quarterly")),
                joined,
                now,
                "EUR",
                coupon_id=coupons["club"].object_id if rng.random() < 0.2 else None,
            )
        if b2b and rng.random() < 0.5:
            _seed_invoices(engine, rng, customer_id, joined, now, coupons["loyalty"].object_id)


def _after_store_charge(
    engine: SandboxEngine, rng: random.Random, charge: SandboxObject, at: datetime, now: datetime
) -> None:
    """What happens to an order's payment later: capture or void, refunds, a dispute."""
    body = charge.data
    if not body["captured"]:
        roll = rng.random()
        later = moment_between(rng, at, min(now, at + timedelta(days=2)))
        if roll < 0.3:
            engine.charge_capture(charge_id=charge.object_id, at=later)
        elif roll < 0.45:
            engine.charge_capture(
                charge_id=charge.object_id, amount=body["amount"] * 3 // 4, at=later
            )
        elif roll < 0.6:
            engine.charge_void(charge_id=charge.object_id, at=later)
        return
    if body["disputed"]:
        # The dispute the test card raised was created by the same operation as the charge.
        dispute = next((obj for obj in engine.changed if obj.kind == "dispute"), None)
        if dispute is not None and now - at > timedelta(days=40):
            engine.dispute_close(
                dispute_id=dispute.object_id, won=rng.random() < 0.5, at=at + timedelta(days=30)
            )
        return
    roll = rng.random()
    refund_at = moment_between(rng, at, min(now, at + timedelta(days=30)))
    if roll < 0.06:
        engine.refund_create(
            charge_id=charge.object_id, reason="requested_by_customer", created=refund_at
        )
    elif roll < 0.11:
        engine.refund_create(
            charge_id=charge.object_id,
            amount=max(1, body["amount"] // 4),
            reason="damaged item",
            created=refund_at,
        )
        if rng.random() < 0.4:
            engine.refund_create(
                charge_id=charge.object_id,
                amount=max(1, body["amount"] // 4),
                reason="late delivery",
                created=moment_between(rng, refund_at, now),
            )
    elif roll < 0.115 and now - at > timedelta(days=1):
        engine.dispute_create(
            charge_id=charge.object_id,
            reason="product_not_received",
            created=moment_between(rng, at, min(now, at + timedelta(days=20))),
        )


def _seed_invoices(
    engine: SandboxEngine,
    rng: random.Random,
    customer_id: str,
    joined: datetime,
    now: datetime,
    coupon_id: str,
) -> None:
    """A B2B buyer's invoices: paid, open (some overdue), void, or still a draft."""
    if rng.random() < 0.3:
        engine.discount_create(coupon_id=coupon_id, customer_id=customer_id, created=joined)
    for _ in range(rng.randint(1, 3)):
        at = moment_between(rng, joined, now)
        invoice = engine.invoice_create(
            customer_id=customer_id,
            currency="EUR",
            lines=[
                Line("Office coffee supply, 10 kg", 19900, rng.randint(1, 3)),
                Line("Espresso machine service", 14900),
            ],
            days_until_due=30,
            created=at,
        )
        roll = rng.random()
        if roll < 0.1:
            continue  # left as a draft
        engine.invoice_finalize(invoice_id=invoice.object_id, at=at)
        engine.invoice_send(invoice_id=invoice.object_id, at=at)
        later = moment_between(rng, at, min(now, at + timedelta(days=20)))
        if roll < 0.7:
            # A decline leaves it open, with its failed charge.
            with contextlib.suppress(CardDeclined):
                engine.invoice_pay(invoice_id=invoice.object_id, at=later)
        elif roll < 0.8:
            engine.invoice_void(invoice_id=invoice.object_id, at=later)
