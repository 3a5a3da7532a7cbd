"""Stripe subscriptions (with their discounts) and invoices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from billingdesk.gateways.interface import (
    GatewayObject,
    GwInvoice,
    GwSubscription,
    Interval,
    InvoiceStatus,
    SubscriptionStatus,
)
from billingdesk.gateways.stripe.mapping.customers import _discounts
from billingdesk.gateways.stripe.mapping.fields import (
    JSON,
    _base,
    _cur,
    _int,
    _s,
    list_data,
    ref,
    ts,
)

_SUB_STATUS = {s.value: s for s in SubscriptionStatus}
_INTERVALS = {i.value: i for i in Interval}


def _status(obj: JSON, status: str) -> SubscriptionStatus:
    """Stripe keeps a subscription whose collection is paused ``active`` and says so in
    ``pause_collection``; billingdesk shows it paused."""
    found = _SUB_STATUS.get(status, SubscriptionStatus.INCOMPLETE)
    if obj.get("pause_collection") and found in (
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
    ):
        return SubscriptionStatus.PAUSED
    return found


def subscription(obj: JSON, updated: datetime) -> GwSubscription:
    """https://docs.stripe.com/api/subscriptions/object (first item's price describes it)."""
    items = list_data(obj.get("items"))
    first = items[0] if items else {}
    price = first.get("price") or first.get("plan") or obj.get("plan") or {}
    if not isinstance(price, Mapping):
        price = {"id": price}
    recurring = price.get("recurring") or {}
    product = price.get("product")
    product_name = _s(product.get("name")) if isinstance(product, Mapping) else _s(product)
    status = _s(obj.get("status"))
    return GwSubscription(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        status=_status(obj, status),
        product=product_name or _s(price.get("nickname")),
        plan=_s(price.get("id")),
        amount=_int(price.get("unit_amount", price.get("amount"))),
        currency=_cur(price.get("currency")),
        interval=_INTERVALS.get(
            _s(recurring.get("interval") or price.get("interval")), Interval.MONTH
        ),
        interval_count=_int(recurring.get("interval_count") or price.get("interval_count")) or 1,
        quantity=_int(first.get("quantity") or obj.get("quantity")) or 1,
        current_period_start=ts(
            obj.get("current_period_start") or first.get("current_period_start")
        ),
        current_period_end=ts(obj.get("current_period_end") or first.get("current_period_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=ts(obj.get("canceled_at")),
        ended_at=ts(obj.get("ended_at")),
        trial_start=ts(obj.get("trial_start")),
        trial_end=ts(obj.get("trial_end")),
    )


def subscription_bundle(obj: JSON, updated: datetime) -> Iterator[GatewayObject]:
    """A subscription and its discounts (``discount`` before basil, ``discounts`` after,
    expanded with ``expand[]=data.discounts``)."""
    gw = subscription(obj, updated)
    yield gw
    customer_id = gw.customer_id
    yield from _discounts(
        obj.get("discount"), updated, customer_id=customer_id, subscription_id=gw.id
    )
    yield from _discounts(
        obj.get("discounts") or [], updated, customer_id=customer_id, subscription_id=gw.id
    )


_INVOICE_STATUS = {s.value: s for s in InvoiceStatus}


def invoice_payment(obj: JSON) -> str | None:
    """The payment an invoice names: ``charge`` (up to 2025-03-31.basil), else the paid (or
    default) entry of ``payments`` (``expand[]=payments``: each a charge or a PaymentIntent,
    https://docs.stripe.com/api/invoice-payment/object), else ``payment_intent`` (older
    versions and localstripe). A PaymentIntent id matches its charge's ``alt_id``."""
    charge_id = ref(obj.get("charge"))
    if charge_id:
        return charge_id
    payments = sorted(
        list_data(obj.get("payments")),
        key=lambda p: (p.get("status") != "paid", not p.get("is_default")),
    )
    for entry in payments:
        payment = entry.get("payment") or {}
        found = ref(payment.get("charge")) or ref(payment.get("payment_intent"))
        if found:
            return found
    return ref(obj.get("payment_intent"))


def invoice(obj: JSON, updated: datetime) -> GwInvoice:
    """https://docs.stripe.com/api/invoices/object (``subscription`` moved under
    ``parent.subscription_details`` in 2025-03-31.basil; ``tax`` became ``total_taxes``)."""
    parent = obj.get("parent") or {}
    sub = obj.get("subscription") or (parent.get("subscription_details") or {}).get("subscription")
    tax = obj.get("tax")
    if tax is None:
        tax = sum(_int(t.get("amount")) for t in obj.get("total_taxes") or [])
    return GwInvoice(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        status=_INVOICE_STATUS.get(_s(obj.get("status")), InvoiceStatus.DRAFT),
        currency=_cur(obj.get("currency")),
        number=_s(obj.get("number")),
        subscription_id=ref(sub),
        subtotal=_int(obj.get("subtotal")),
        tax=_int(tax),
        total=_int(obj.get("total")),
        amount_due=_int(obj.get("amount_due")),
        amount_paid=_int(obj.get("amount_paid")),
        due_date=ts(obj.get("due_date")),
        period_start=ts(obj.get("period_start")),
        period_end=ts(obj.get("period_end")),
        hosted_url=_s(obj.get("hosted_invoice_url")),
        pdf_url=_s(obj.get("invoice_pdf")),
        charge_id=invoice_payment(obj),
    )
