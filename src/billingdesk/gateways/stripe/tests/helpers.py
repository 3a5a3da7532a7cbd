"""Arranging Stripe data for the tests with the official SDK (not the connector under test)."""

from __future__ import annotations

from typing import Any

import stripe

CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def customer_with_card(
    seed: stripe.StripeClient, *, email: str, name: str = "", **extra: Any
) -> stripe.Customer:
    pm = seed.v1.payment_methods.create(params={"type": "card", "card": dict(CARD)})
    params: dict[str, Any] = {
        "email": email,
        "name": name or email.split("@")[0].title(),
        "payment_method": pm.id,
        "invoice_settings": {"default_payment_method": pm.id},
        **extra,
    }
    return seed.v1.customers.create(params=params)  # type: ignore[arg-type]


def pay(
    seed: stripe.StripeClient, customer: stripe.Customer, amount: int, *, capture: bool = True
) -> stripe.PaymentIntent:
    params: dict[str, Any] = {
        "amount": amount,
        "currency": "eur",
        "customer": customer.id,
        "payment_method": customer.invoice_settings.default_payment_method,  # type: ignore[union-attr]
        "confirm": True,
    }
    if not capture:
        params["capture_method"] = "manual"
    return seed.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def charge_id(pi: stripe.PaymentIntent) -> str:
    latest = pi.latest_charge
    return latest if isinstance(latest, str) else latest.id  # type: ignore[union-attr]
