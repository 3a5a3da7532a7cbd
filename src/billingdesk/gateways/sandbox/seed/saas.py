"""The "US SaaS" demo account: software subscriptions sold in dollars."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import partial

from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.gateways.sandbox.seed.history import (
    HISTORY,
    SCENARIOS,
    charge_try,
    customer_seed,
    moment_between,
    subscription_seed,
)
from billingdesk.gateways.sandbox.seed.people import EU_COUNTRIES, Human, vat_number

SAAS_ADDONS = (("Extra seats (5)", 4500), ("Onboarding package", 29900), ("Priority support", 9900))


def saas_seed(
    engine: SandboxEngine, rng: random.Random, people: list[Human], now: datetime
) -> None:
    start = now - HISTORY
    launch = engine.coupon_create(
        name="LAUNCH25",
        percent_off_bp=2500,
        duration="repeating",
        duration_in_months=3,
        created=start,
    )
    annual = engine.coupon_create(name="ANNUAL50", amount_off=5000, currency="USD", created=start)
    nonprofit = engine.coupon_create(
        name="NONPROFIT", percent_off_bp=5000, duration="forever", created=start
    )
    for human in people:
        joined = moment_between(rng, start, now - timedelta(days=2))
        customer_id = customer_seed(engine, rng, human, joined, first_account=False)
        human.customer_ids["US SaaS"] = customer_id
        if human.country in EU_COUNTRIES and rng.random() < 0.3:
            engine.tax_id_create(
                customer_id=customer_id,
                tax_type="eu_vat",
                value=vat_number(rng, human.country),
                created=joined,
            )
        elif human.country == "US" and rng.random() < 0.1:
            engine.tax_id_create(
                customer_id=customer_id,
                tax_type="us_ein",
                value=f"{rng.randint(10, 99)}-{rng.randint(1_000_000, 9_999_999)}",
                created=joined,
            )
        if rng.random() < 0.75:
            plan_id = rng.choices(
                ("starter-monthly", "pro-monthly", "team-monthly", "pro-yearly"), (40, 35, 10, 15)
            )[0]
            scenario = rng.choices(SCENARIOS, (45, 8, 15, 7, 7, 5, 4, 4))[0]
            coupon = None
            if rng.random() < 0.12:
                coupon = annual if plan_id == "pro-yearly" else rng.choice((launch, nonprofit))
            subscription = subscription_seed(
                engine,
                rng,
                customer_id,
                plan_id,
                joined,
                now,
                "USD",
                coupon_id=coupon.object_id if coupon else None,
                scenario=scenario,
            )
            if rng.random() < 0.05:
                _refund_latest(engine, rng, subscription, now)
        for _ in range(rng.choices((0, 1, 2), (80, 15, 5))[0]):
            product, price = rng.choice(SAAS_ADDONS)
            at = moment_between(rng, joined, now)
            charge = charge_try(
                partial(
                    engine.charge_create,
                    customer_id=customer_id,
                    amount=price,
                    currency="USD",
                    description=product,
                    product=product,
                    created=at,
                )
            )
            if charge is not None and charge.data["captured"] and rng.random() < 0.1:
                engine.refund_create(
                    charge_id=charge.object_id,
                    reason="requested_by_customer",
                    created=moment_between(rng, at, now),
                )


def _refund_latest(
    engine: SandboxEngine, rng: random.Random, subscription: SandboxObject, now: datetime
) -> None:
    """A prorated refund of the subscription's last payment, as support often grants."""
    invoice_id = subscription.data["latest_invoice"]
    if not invoice_id:
        return
    charge_id = engine.retrieve(object_id=invoice_id, kind="invoice").data["charge"]
    if not charge_id:
        return
    charge = engine.retrieve(object_id=charge_id, kind="charge")
    body = charge.data
    if body["status"] != "succeeded" or body["amount_refunded"] or body["disputed"]:
        return
    engine.refund_create(
        charge_id=charge_id,
        amount=max(1, charge.data["amount"] // 2),
        reason="prorated downgrade",
        created=moment_between(rng, charge.created, now),
    )
