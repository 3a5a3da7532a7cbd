"""Building blocks of seeded history shared by both demo accounts."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from billingdesk.core.errors import CardDeclined
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.engine.base import add_interval
from billingdesk.gateways.sandbox.engine.ledger import parse_iso
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.gateways.sandbox.plans import PLANS
from billingdesk.gateways.sandbox.seed.people import (
    Human,
    ascii_slug,
    email_variant,
    phone_international,
    phone_variant,
)

HISTORY = timedelta(days=548)  # eighteen months
VISA, MASTERCARD, VISA_DEBIT = "4242424242424242", "5555555555554444", "4000056655665556"
DISPUTING, FAILING = "4000000000000259", "4000000000000341"
DECLINING = ("4000000000000002", "4000000000009995")


def customer_seed(
    engine: SandboxEngine, rng: random.Random, human: Human, at: datetime, *, first_account: bool
) -> str:
    email, phone = human.email, phone_international(human)
    if not first_account and human.presence == "both_email":
        email = email_variant(rng, email)
    if not first_account and human.presence == "both_phone":
        email = (
            f"{ascii_slug(human.first)[0]}{ascii_slug(human.last)}@work-{human.index}.example.net"
        )
        phone = phone_variant(human)
    customer = engine.customer_create(
        email=email,
        name=human.name,
        phone=phone if rng.random() < 0.85 or human.presence == "both_phone" else "",
        country=human.country,
        currency=engine.account.default_currency,
        created=at,
    )
    card = rng.choices((VISA, MASTERCARD, VISA_DEBIT, DISPUTING, FAILING), (78, 12, 5, 2, 3))[0]
    engine.card_attach(
        customer_id=customer.object_id,
        number=card,
        exp_month=rng.randint(1, 12),
        exp_year=at.year + rng.randint(1, 5),
        created=at,
    )
    return customer.object_id


def moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def charge_try(charge: Callable[[], SandboxObject]) -> SandboxObject | None:
    """The charge, or None when the card declined it (the failed charge is kept)."""
    try:
        return charge()
    except CardDeclined:
        return None


SCENARIOS = (
    "active",
    "trialing",
    "canceled",
    "cancel_at_period_end",
    "past_due",
    "unpaid",
    "incomplete",
    "paused",
)


def subscription_seed(
    engine: SandboxEngine,
    rng: random.Random,
    customer_id: str,
    plan_id: str,
    joined: datetime,
    now: datetime,
    currency: str,
    *,
    coupon_id: str | None = None,
    scenario: str = "active",
) -> SandboxObject:
    """A subscription taken at some point and lived until now in the given scenario."""
    plan = PLANS[plan_id]
    trial_days: int | None = None
    if scenario in ("trialing", "incomplete"):
        recent = timedelta(days=13 if scenario == "trialing" else 3)
        created = moment_between(rng, max(joined, now - recent), now)
        trial_days = 14 if scenario == "trialing" else None
    else:
        created = moment_between(rng, joined, now - timedelta(days=1))
        trial_days = 14 if rng.random() < 0.2 else None
    if scenario == "incomplete":
        failing_card_attach(engine, rng, customer_id, created)
    subscription = engine.subscription_create(
        customer_id=customer_id,
        plan=plan.id,
        product=plan.product,
        amount=plan.price(currency),
        currency=currency,
        interval=plan.interval,
        interval_count=plan.interval_count,
        trial_days=trial_days,
        coupon_id=coupon_id,
        created=created,
    )
    if subscription.data["status"] == "incomplete":
        return subscription
    ends: list[datetime] = []
    end = parse_iso(subscription.data["current_period_end"])
    while end is not None and end <= now:
        ends.append(end)
        end = add_interval(end, plan.interval, plan.interval_count)
    if scenario == "unpaid" and len(ends) < 2:
        scenario = "past_due"
    if scenario == "past_due" and not ends:
        scenario = "active"
    stop = len(ends)
    if scenario in ("canceled", "paused"):
        stop = rng.randint(0, len(ends))
    fail_from = {"past_due": len(ends) - 1, "unpaid": len(ends) - 2}.get(scenario)
    for number, at in enumerate(ends[:stop]):
        if number == fail_from:
            failing_card_attach(engine, rng, customer_id, at - timedelta(days=2))
        engine.subscription_renew(subscription_id=subscription.object_id, at=at)
    last_start = parse_iso(subscription.data["current_period_start"]) or created
    next_end = parse_iso(subscription.data["current_period_end"]) or now
    when = moment_between(rng, last_start, min(now, next_end))
    if scenario == "canceled":
        engine.subscription_cancel(
            subscription_id=subscription.object_id, at_period_end=False, at=when
        )
    elif scenario == "cancel_at_period_end":
        engine.subscription_cancel(
            subscription_id=subscription.object_id, at_period_end=True, at=when
        )
    elif scenario == "paused":
        engine.subscription_pause(subscription_id=subscription.object_id, at=when)
    return subscription


def failing_card_attach(
    engine: SandboxEngine, rng: random.Random, customer_id: str, at: datetime
) -> None:
    """The customer's new default card: attaches fine, every later charge fails (0341)."""
    engine.card_attach(
        customer_id=customer_id,
        number=FAILING,
        exp_month=rng.randint(1, 12),
        exp_year=at.year + 2,
        make_default=True,
        created=at,
    )
