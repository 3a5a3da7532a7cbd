"""Stripe JSON objects -> billingdesk's gateway dataclasses.

Each function follows the object reference of the Stripe API and reads both the current
layout (the SDK pins API version ``2026-10-28.endive``) and older ones still served by
accounts pinned to an old version and by localstripe (e.g. ``subscription.current_period_*``
moved onto items in 2025-03-31.basil; ``subscription.discount`` became ``discounts``).

Stripe objects carry no "updated" timestamp, so the caller passes ``updated``: the event's
``created`` for webhooks, the fetch time for listings and action results. The mirror then
keeps whichever version is newest.

The package is split by the objects mapped; use it as ``mapping.<function>``:

- ``fields``: reading Stripe's timestamps, references, amounts, lists and base fields;
- ``customers``: customers and what hangs off them (cards, tax ids, coupons, discounts);
- ``charges``: charges, refunds, payment intents (and their attempts) and disputes;
- ``subscriptions``: subscriptions and invoices;
- ``objects``: any object, by its ``object`` field.
"""

from billingdesk.gateways.stripe.mapping.charges import (
    charge,
    charge_bundle,
    charge_status,
    dispute,
    latest_charge,
    payment_attempt,
    payment_intent_bundle,
    refund,
)
from billingdesk.gateways.stripe.mapping.customers import (
    coupon,
    customer,
    customer_bundle,
    discount,
    payment_method,
    tax_id,
)
from billingdesk.gateways.stripe.mapping.fields import JSON, list_data, ref, ts
from billingdesk.gateways.stripe.mapping.objects import object_bundle
from billingdesk.gateways.stripe.mapping.subscriptions import (
    invoice,
    invoice_payment,
    subscription,
    subscription_bundle,
)

__all__ = [
    "JSON",
    "charge",
    "charge_bundle",
    "charge_status",
    "coupon",
    "customer",
    "customer_bundle",
    "discount",
    "dispute",
    "invoice",
    "invoice_payment",
    "latest_charge",
    "list_data",
    "object_bundle",
    "payment_attempt",
    "payment_intent_bundle",
    "payment_method",
    "ref",
    "refund",
    "subscription",
    "subscription_bundle",
    "tax_id",
    "ts",
]
