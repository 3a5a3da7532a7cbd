"""Any Stripe object billingdesk mirrors, by its ``object`` field (webhooks, action results)."""

from __future__ import annotations

from datetime import datetime

from billingdesk.core.errors import MalformedPayload
from billingdesk.gateways.interface import GatewayObject
from billingdesk.gateways.stripe.mapping.charges import (
    charge_bundle,
    dispute,
    payment_intent_bundle,
    refund,
)
from billingdesk.gateways.stripe.mapping.customers import (
    coupon,
    customer_bundle,
    discount,
    payment_method,
    tax_id,
)
from billingdesk.gateways.stripe.mapping.fields import JSON
from billingdesk.gateways.stripe.mapping.subscriptions import invoice, subscription_bundle

# --- any object, by its "object" field ------------------------------------------------------


def object_bundle(obj: JSON, updated: datetime) -> list[GatewayObject]:
    """Map any Stripe object billingdesk mirrors (used for webhooks and action results)."""
    kind = obj.get("object")
    if kind == "customer":
        return list(customer_bundle(obj, updated))
    if kind == "payment_method":
        return [payment_method(obj, updated)]
    if kind == "charge":
        return list(charge_bundle(obj, updated))
    if kind == "refund":
        return [refund(obj, updated)]
    if kind == "payment_intent":
        return list(payment_intent_bundle(obj, updated))
    if kind == "subscription":
        return list(subscription_bundle(obj, updated))
    if kind == "invoice":
        return [invoice(obj, updated)]
    if kind == "coupon":
        return [coupon(obj, updated)]
    if kind == "discount":
        gw, embedded = discount(obj, updated)
        return [o for o in (embedded, gw) if o is not None]
    if kind == "tax_id":
        return [tax_id(obj, updated)]
    if kind == "dispute":
        return [dispute(obj, updated)]
    if not kind:
        raise MalformedPayload("a Stripe object without an 'object' field")
    return []
