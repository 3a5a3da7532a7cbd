"""Stripe JSON objects -> billingdesk's gateway dataclasses.

Each function follows the object reference of the Stripe API and reads both the current
layout (the SDK pins API version ``2026-10-28.endive``) and older ones still served by
accounts pinned to an old version and by localstripe (e.g. ``subscription.current_period_*``
moved onto items in 2025-03-31.basil; ``subscription.discount`` became ``discounts``).

Stripe objects carry no "updated" timestamp, so the caller passes ``updated``: the event's
``created`` for webhooks, the fetch time for listings and action results. The mirror then
keeps whichever version is newest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from billingdesk.core.errors import MalformedPayload
from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    GatewayObject,
    GwCharge,
    GwCoupon,
    GwCustomer,
    GwDiscount,
    GwDispute,
    GwInvoice,
    GwPaymentMethod,
    GwRefund,
    GwSubscription,
    GwTaxId,
    Interval,
    InvoiceStatus,
    RefundStatus,
    SubscriptionStatus,
)

JSON = Mapping[str, Any]


def ts(value: Any) -> datetime | None:
    """Stripe v1 timestamps are Unix seconds."""
    if value in (None, "", 0):
        return None
    if isinstance(value, str) and not value.isdigit():
        # v2 API objects (thin events) use RFC 3339 strings.
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.fromtimestamp(int(value), tz=UTC)


def ref(value: Any) -> str | None:
    """A reference field is an id, or the object itself when expanded."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value else None


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _cur(value: Any) -> str:
    return _s(value).upper()


def _int(value: Any) -> int:
    return int(value or 0)


def list_data(value: Any) -> list[JSON]:
    """Embedded lists (``{"object": "list", "data": [...]}``) or plain arrays."""
    if isinstance(value, Mapping):
        value = value.get("data")
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _base(obj: JSON, updated: datetime) -> dict[str, Any]:
    return {
        "id": _s(obj.get("id")),
        "updated": updated,
        "created": ts(obj.get("created")),
        "raw": obj,
        "deleted": bool(obj.get("deleted")),
    }


# --- customers and what hangs off them ------------------------------------------------------


def customer(obj: JSON, updated: datetime) -> GwCustomer:
    """https://docs.stripe.com/api/customers/object"""
    address = obj.get("address") or {}
    return GwCustomer(
        **_base(obj, updated),
        email=_s(obj.get("email")),
        name=_s(obj.get("name")),
        phone=_s(obj.get("phone")),
        country=_s(address.get("country")).upper()[:2],
        currency=_cur(obj.get("currency")),
        description=_s(obj.get("description")),
    )


def payment_method(obj: JSON, updated: datetime, *, is_default: bool = False) -> GwPaymentMethod:
    """https://docs.stripe.com/api/payment_methods/object (card details only; never a PAN)."""
    card = obj.get("card") or {}
    return GwPaymentMethod(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        method_type=_s(obj.get("type")) or "card",
        brand=_s(card.get("brand")),
        last4=_s(card.get("last4"))[-4:],
        exp_month=card.get("exp_month") or None,
        exp_year=card.get("exp_year") or None,
        fingerprint=_s(card.get("fingerprint")),
        is_default=is_default,
    )


def tax_id(obj: JSON, updated: datetime) -> GwTaxId:
    """https://docs.stripe.com/api/tax_ids/object"""
    verification = obj.get("verification") or {}
    owner = obj.get("owner") or {}
    return GwTaxId(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")) or ref(owner.get("customer")),
        tax_type=_s(obj.get("type")),
        value=_s(obj.get("value")),
        country=_s(obj.get("country")).upper()[:2],
        verification=_s(verification.get("status")),
    )


def coupon(obj: JSON, updated: datetime) -> GwCoupon:
    """https://docs.stripe.com/api/coupons/object (``percent_off`` is a float: kept as
    basis points so it stays an integer)."""
    percent = obj.get("percent_off")
    return GwCoupon(
        **_base(obj, updated),
        name=_s(obj.get("name")),
        percent_off_bp=round(float(percent) * 100) if percent is not None else None,
        amount_off=obj.get("amount_off"),
        currency=_cur(obj.get("currency")),
        duration=_s(obj.get("duration")) or "once",
        duration_in_months=obj.get("duration_in_months"),
        valid=bool(obj.get("valid", True)),
    )


def discount(obj: JSON, updated: datetime) -> tuple[GwDiscount, GwCoupon | None]:
    """https://docs.stripe.com/api/discounts/object. The coupon is ``coupon`` (up to
    2025-09-30.clover) or ``source.coupon``; old API versions give discounts no id, so one is
    made from what they apply to."""
    source = obj.get("source") or {}
    raw_coupon = obj.get("coupon") or source.get("coupon")
    coupon_id = ref(raw_coupon) or ""
    customer_id = ref(obj.get("customer"))
    subscription_id = ref(obj.get("subscription"))
    discount_id = _s(obj.get("id")) or f"di_{coupon_id}_{subscription_id or customer_id}"
    gw = GwDiscount(
        id=discount_id,
        updated=updated,
        created=ts(obj.get("start")),
        raw=obj,
        coupon_id=coupon_id,
        customer_id=customer_id,
        subscription_id=subscription_id,
        start=ts(obj.get("start")),
        end=ts(obj.get("end")),
    )
    embedded = coupon(raw_coupon, updated) if isinstance(raw_coupon, Mapping) else None
    return gw, embedded


def customer_bundle(obj: JSON, updated: datetime) -> Iterator[GatewayObject]:
    """A listed customer and what its page embeds (``expand[]=data.tax_ids`` and
    ``data.invoice_settings.default_payment_method``): tax ids, the default card, the
    customer-level discount. One page of customers costs one API call."""
    yield customer(obj, updated)
    if obj.get("deleted"):
        return
    for item in list_data(obj.get("tax_ids")):
        yield tax_id({**item, "customer": item.get("customer") or obj.get("id")}, updated)
    default_pm = (obj.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default_pm, Mapping):
        yield payment_method(
            {**default_pm, "customer": default_pm.get("customer") or obj.get("id")},
            updated,
            is_default=True,
        )
    yield from _discounts(obj.get("discount"), updated, customer_id=_s(obj.get("id")))


def _discounts(
    value: Any, updated: datetime, *, customer_id: str | None = None, subscription_id: str = ""
) -> Iterator[GatewayObject]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, Mapping):
            continue  # an unexpanded id: nothing to map without another call
        fixed = dict(item)
        fixed.setdefault("customer", customer_id)
        if subscription_id:
            fixed.setdefault("subscription", subscription_id)
        gw, embedded_coupon = discount(fixed, updated)
        if embedded_coupon is not None:
            yield embedded_coupon
        if gw.coupon_id:
            yield gw


# --- charges and refunds --------------------------------------------------------------------


def charge_status(obj: JSON, *, payment_intent_status: str = "") -> ChargeStatus:
    """https://docs.stripe.com/api/charges/object: ``status`` is only succeeded / pending /
    failed; capture, refund and dispute state live in ``captured``, ``refunded``,
    ``amount_refunded`` and ``disputed``."""
    status = obj.get("status")
    if status == "failed":
        return ChargeStatus.FAILED
    if status == "pending":
        return ChargeStatus.PENDING
    if obj.get("disputed"):
        return ChargeStatus.DISPUTED
    if not obj.get("captured", True):
        # An authorisation released (PaymentIntent canceled) shows as refunded, uncaptured.
        if obj.get("refunded") or payment_intent_status == "canceled":
            return ChargeStatus.VOIDED
        return ChargeStatus.AUTHORIZED
    refunded = _refunded(obj)
    if refunded and (obj.get("refunded") or refunded >= _captured(obj)):
        return ChargeStatus.REFUNDED
    if refunded:
        return ChargeStatus.PARTIALLY_REFUNDED
    return ChargeStatus.CAPTURED


def _captured(obj: JSON) -> int:
    if "amount_captured" in obj and obj["amount_captured"] is not None:
        return _int(obj["amount_captured"])
    # Older API versions (and localstripe) have no amount_captured.
    return (
        _int(obj.get("amount")) if obj.get("captured") and obj.get("status") == "succeeded" else 0
    )


def _refunded(obj: JSON) -> int:
    """What was given back of what was taken. A partial capture releases the rest of the
    authorisation, and Stripe counts that remainder in ``amount_refunded``
    (https://docs.stripe.com/api/charges/capture: "any additional amount will be
    automatically refunded"); it was never taken, so it is no refund: refundable stays
    ``amount_captured`` - refunds."""
    refunded = _int(obj.get("amount_refunded"))
    if obj.get("captured") and obj.get("amount_captured") is not None:
        released = max(_int(obj.get("amount")) - _int(obj["amount_captured"]), 0)
        refunded = max(refunded - released, 0)
    return refunded


def charge(obj: JSON, updated: datetime, *, payment_intent_status: str = "") -> GwCharge:
    """https://docs.stripe.com/api/charges/object"""
    details = obj.get("payment_method_details") or {}
    card = details.get("card") or {}
    pm = obj.get("payment_method")
    if not card and isinstance(pm, Mapping):
        card = pm.get("card") or {}
    pi = obj.get("payment_intent")
    if isinstance(pi, Mapping):
        payment_intent_status = payment_intent_status or _s(pi.get("status"))
    metadata = obj.get("metadata") or {}
    billing = obj.get("billing_details") or {}
    return GwCharge(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=charge_status(obj, payment_intent_status=payment_intent_status),
        amount_captured=_captured(obj),
        amount_refunded=_refunded(obj),
        description=_s(obj.get("description")),
        product=_s(metadata.get("product")),
        order_id=_s(metadata.get("order_id")),
        alt_id=ref(pi) or "",
        payment_method_id=ref(pm),
        card_brand=_s(card.get("brand")),
        card_last4=_s(card.get("last4"))[-4:],
        invoice_id=ref(obj.get("invoice")),
        failure_code=_s(obj.get("failure_code")),
        failure_message=_s(obj.get("failure_message")),
        receipt_email=_s(obj.get("receipt_email")) or _s(billing.get("email")),
    )


_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}


def refund(obj: JSON, updated: datetime, *, charge_id: str | None = None) -> GwRefund:
    """https://docs.stripe.com/api/refunds/object. The agent's own words travel in
    ``metadata.reason`` (Stripe's ``reason`` only takes three fixed values)."""
    metadata = obj.get("metadata") or {}
    reason = _s(metadata.get("reason")) or _s(obj.get("reason"))
    return GwRefund(
        **_base(obj, updated),
        charge_id=ref(obj.get("charge")) or charge_id or "",
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_REFUND_STATUS.get(_s(obj.get("status")), RefundStatus.PENDING),
        reason=reason,
    )


def charge_bundle(
    obj: JSON, updated: datetime, *, payment_intent_status: str = ""
) -> Iterator[GatewayObject]:
    """A charge with its embedded refunds (``expand[]=data.refunds``) and the card it used."""
    gw = charge(obj, updated, payment_intent_status=payment_intent_status)
    yield gw
    for item in list_data(obj.get("refunds")):
        yield refund(item, updated, charge_id=gw.id)
    # The card as the charge saw it, versioned at the charge's creation: it fills in a card
    # the mirror lacks but never overrides a newer view of it (e.g. which card is default,
    # known only from the customer).
    as_of = min(updated, ts(obj.get("created")) or updated)
    details = (obj.get("payment_method_details") or {}).get("card")
    pm = obj.get("payment_method")
    if isinstance(pm, Mapping):
        yield payment_method(pm, as_of)
    elif gw.payment_method_id and isinstance(details, Mapping) and details.get("last4"):
        yield payment_method(
            {
                "id": gw.payment_method_id,
                "type": "card",
                "customer": gw.customer_id,
                "card": details,
                "created": obj.get("created"),
            },
            as_of,
        )


# A PaymentIntent that has no charge yet (https://docs.stripe.com/payments/paymentintents/lifecycle):
# still open while it can be paid, or canceled before any attempt (nothing was taken or held,
# so VOIDED, as for a canceled intent's released authorisation).
_ATTEMPT_STATUS = {
    "requires_payment_method": ChargeStatus.PENDING,
    "requires_confirmation": ChargeStatus.PENDING,
    "requires_action": ChargeStatus.PENDING,
    "processing": ChargeStatus.PENDING,
    "canceled": ChargeStatus.VOIDED,
}


def payment_attempt(obj: JSON, updated: datetime) -> GwCharge:
    """https://docs.stripe.com/api/payment_intents/object, for an intent with no charge: a
    charge row keyed by the intent's id (its ``alt_id`` too), which the intent's first charge
    supersedes in the mirror. A failed attempt (3-D Secure failed, a decline before any
    charge) keeps its error while the intent can still be paid."""
    error = obj.get("last_payment_error") or {}
    pm = obj.get("payment_method")
    card = (pm.get("card") or {}) if isinstance(pm, Mapping) else {}
    metadata = obj.get("metadata") or {}
    return GwCharge(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_ATTEMPT_STATUS.get(_s(obj.get("status")), ChargeStatus.PENDING),
        description=_s(obj.get("description")),
        product=_s(metadata.get("product")),
        order_id=_s(metadata.get("order_id")),
        alt_id=_s(obj.get("id")),
        payment_method_id=ref(pm),
        card_brand=_s(card.get("brand")),
        card_last4=_s(card.get("last4"))[-4:],
        invoice_id=ref(obj.get("invoice")),
        failure_code=_s(error.get("decline_code") or error.get("code")),
        failure_message=_s(error.get("message")),
        receipt_email=_s(obj.get("receipt_email")),
    )


def latest_charge(obj: JSON) -> Any:
    """A PaymentIntent's charge: ``latest_charge`` (an id, or the charge when expanded), or
    the first of the ``charges`` list of API versions before 2022-11-15; None if it has none."""
    charges = list_data(obj.get("charges"))
    return obj.get("latest_charge") or (charges[0] if charges else None)


def payment_intent_bundle(obj: JSON, updated: datetime) -> Iterator[GatewayObject]:
    """https://docs.stripe.com/api/payment_intents/object: the mirror keeps the PaymentIntent's
    charge (when expanded), with the intent's status deciding voids, or the intent itself
    while it has no charge. (An unexpanded charge maps to nothing: the caller fetches it.)"""
    latest = latest_charge(obj)
    if isinstance(latest, Mapping):
        yield from charge_bundle(latest, updated, payment_intent_status=_s(obj.get("status")))
    elif not latest:
        yield payment_attempt(obj, updated)


# --- subscriptions and invoices -------------------------------------------------------------

_SUB_STATUS = {s.value: s for s in SubscriptionStatus}
_INTERVALS = {i.value: i for i in Interval}


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
        status=_SUB_STATUS.get(status, SubscriptionStatus.INCOMPLETE),
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


# --- disputes -------------------------------------------------------------------------------

_DISPUTE_STATUS = {
    "warning_needs_response": DisputeStatus.WARNING,
    "warning_under_review": DisputeStatus.WARNING,
    "warning_closed": DisputeStatus.WARNING,
    "needs_response": DisputeStatus.NEEDS_RESPONSE,
    "under_review": DisputeStatus.UNDER_REVIEW,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
    "prevented": DisputeStatus.WON,  # stopped before it cost the merchant anything
}


def dispute(obj: JSON, updated: datetime) -> GwDispute:
    """https://docs.stripe.com/api/disputes/object"""
    evidence = obj.get("evidence_details") or {}
    return GwDispute(
        **_base(obj, updated),
        charge_id=ref(obj.get("charge")) or "",
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_DISPUTE_STATUS.get(_s(obj.get("status")), DisputeStatus.NEEDS_RESPONSE),
        reason=_s(obj.get("reason")),
        evidence_due_by=ts(evidence.get("due_by")),
    )


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
