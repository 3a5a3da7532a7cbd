"""Arranging Stripe data for the tests with the official SDK (not the connector under test)."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe
from django.test import Client

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.stripe.tests.conftest import WEBHOOK_SECRET

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


def event_json(
    event_type: str, obj: dict[str, Any] | None, *, event_id: str = "evt_1", created: int = 0
) -> str:
    """A Stripe event's body (``created`` now unless given)."""
    body: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created or int(time.time()),
        "api_version": "2026-10-28.endive",
        "livemode": False,
        "data": {"object": obj} if obj is not None else {},
    }
    return json.dumps(body)


def post_event(
    client: Client,
    account: GatewayAccount,
    payload: str,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    body: str | None = None,
) -> Any:
    """POST the event to the account's webhook URL, signed as Stripe signs (with the official
    SDK's signer, not billingdesk's verifier)."""
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return client.post(
        account.webhook_path,
        data=body if body is not None else payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
