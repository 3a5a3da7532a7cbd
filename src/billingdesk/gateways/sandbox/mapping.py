"""The sandbox's JSON objects turned into the gateway interface's dataclasses.

The shapes are the sandbox's own (close to Stripe's); see ``engine/payments.py`` and
``engine/billing.py`` for how they are built. ``updated`` is the object's own ``updated``
timestamp (microseconds, strictly increasing per object), so the mirror can always tell a
newer version from an older one whatever order events arrive in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
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
from billingdesk.gateways.sandbox.engine.ledger import parse_iso

JSON = Mapping[str, Any]


def _when(value: Any) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        raise MalformedPayload(f"{value!r} is not a timestamp") from None


def _base(data: JSON) -> dict[str, Any]:
    updated = _when(data.get("updated"))
    if updated is None:
        raise MalformedPayload("object has no updated timestamp")
    return {
        "id": str(data["id"]),
        "updated": updated,
        "created": _when(data.get("created")),
        "raw": data,
    }


def _currency(value: Any) -> str:
    return str(value or "").upper()


def customer_from(data: JSON) -> GwCustomer:
    return GwCustomer(
        **_base(data),
        email=data.get("email") or "",
        name=data.get("name") or "",
        phone=data.get("phone") or "",
        country=(data.get("address") or {}).get("country") or "",
        currency=_currency(data.get("currency")),
        description=data.get("description") or "",
    )


def payment_method_from(data: JSON) -> GwPaymentMethod:
    card = data.get("card") or {}
    return GwPaymentMethod(
        **_base(data),
        customer_id=data.get("customer"),
        method_type=data.get("type") or "card",
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        is_default=bool(data.get("is_default")),
    )


def charge_status(data: JSON) -> ChargeStatus:
    if data["status"] == "failed":
        return ChargeStatus.FAILED
    if data.get("voided"):
        return ChargeStatus.VOIDED
    if not data.get("captured"):
        return ChargeStatus.AUTHORIZED
    if data.get("disputed"):
        return ChargeStatus.DISPUTED
    refunded, captured = data.get("amount_refunded") or 0, data.get("amount_captured") or 0
    if refunded and refunded >= captured:
        return ChargeStatus.REFUNDED
    if refunded:
        return ChargeStatus.PARTIALLY_REFUNDED
    return ChargeStatus.CAPTURED


def charge_from(data: JSON) -> GwCharge:
    card = (data.get("payment_method_details") or {}).get("card") or {}
    metadata = data.get("metadata") or {}
    return GwCharge(
        **_base(data),
        customer_id=data.get("customer"),
        amount=int(data["amount"]),
        currency=_currency(data["currency"]),
        status=charge_status(data),
        amount_captured=int(data.get("amount_captured") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        description=data.get("description") or "",
        product=metadata.get("product") or "",
        order_id=metadata.get("order_id") or "",
        alt_id=data.get("payment_intent") or "",
        payment_method_id=data.get("payment_method"),
        card_brand=card.get("brand") or "",
        card_last4=card.get("last4") or "",
        invoice_id=data.get("invoice"),
        failure_code=(data.get("outcome") or {}).get("reason") or data.get("failure_code") or "",
        failure_message=data.get("failure_message") or "",
        receipt_email=data.get("receipt_email") or "",
    )


def refund_from(data: JSON) -> GwRefund:
    return GwRefund(
        **_base(data),
        charge_id=str(data["charge"]),
        amount=int(data["amount"]),
        currency=_currency(data["currency"]),
        status=RefundStatus(data["status"]),
        reason=data.get("reason") or "",
    )


def subscription_from(data: JSON) -> GwSubscription:
    plan = data.get("plan") or {}
    return GwSubscription(
        **_base(data),
        customer_id=data.get("customer"),
        status=SubscriptionStatus(data["status"]),
        product=plan.get("product") or "",
        plan=plan.get("id") or "",
        amount=int(plan.get("amount") or 0),
        currency=_currency(plan.get("currency")),
        interval=Interval(plan.get("interval") or "month"),
        interval_count=int(plan.get("interval_count") or 1),
        quantity=int(data.get("quantity") or 1),
        current_period_start=_when(data.get("current_period_start")),
        current_period_end=_when(data.get("current_period_end")),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        canceled_at=_when(data.get("canceled_at")),
        ended_at=_when(data.get("ended_at")),
        trial_start=_when(data.get("trial_start")),
        trial_end=_when(data.get("trial_end")),
    )


def invoice_from(data: JSON) -> GwInvoice:
    return GwInvoice(
        **_base(data),
        customer_id=data.get("customer"),
        status=InvoiceStatus(data["status"]),
        currency=_currency(data["currency"]),
        number=data.get("number") or "",
        subscription_id=data.get("subscription"),
        subtotal=int(data.get("subtotal") or 0),
        tax=int(data.get("tax") or 0),
        total=int(data.get("total") or 0),
        amount_due=int(data.get("amount_due") or 0),
        amount_paid=int(data.get("amount_paid") or 0),
        due_date=_when(data.get("due_date")),
        period_start=_when(data.get("period_start")),
        period_end=_when(data.get("period_end")),
        hosted_url=data.get("hosted_invoice_url") or "",
        pdf_url=data.get("invoice_pdf") or "",
        charge_id=data.get("charge") or None,
    )


def coupon_from(data: JSON) -> GwCoupon:
    return GwCoupon(
        **_base(data),
        name=data.get("name") or "",
        percent_off_bp=data.get("percent_off_bp"),
        amount_off=data.get("amount_off"),
        currency=_currency(data.get("currency")),
        duration=data.get("duration") or "once",
        duration_in_months=data.get("duration_in_months"),
        valid=bool(data.get("valid", True)),
    )


def discount_from(data: JSON) -> GwDiscount:
    return GwDiscount(
        **_base(data),
        coupon_id=str(data["coupon"]),
        customer_id=data.get("customer"),
        subscription_id=data.get("subscription"),
        start=_when(data.get("start")),
        end=_when(data.get("end")),
        deleted=bool(data.get("deleted")),
    )


def tax_id_from(data: JSON) -> GwTaxId:
    return GwTaxId(
        **_base(data),
        customer_id=data.get("customer"),
        tax_type=str(data["type"]),
        value=str(data["value"]),
        country=data.get("country") or "",
        verification=(data.get("verification") or {}).get("status") or "",
    )


def dispute_from(data: JSON) -> GwDispute:
    return GwDispute(
        **_base(data),
        charge_id=str(data["charge"]),
        amount=int(data["amount"]),
        currency=_currency(data["currency"]),
        status=DisputeStatus(data["status"]),
        reason=data.get("reason") or "",
        evidence_due_by=_when((data.get("evidence_details") or {}).get("due_by")),
    )


MAPPERS: dict[str, Callable[[JSON], GatewayObject]] = {
    "customer": customer_from,
    "payment_method": payment_method_from,
    "charge": charge_from,
    "refund": refund_from,
    "subscription": subscription_from,
    "invoice": invoice_from,
    "coupon": coupon_from,
    "discount": discount_from,
    "tax_id": tax_id_from,
    "dispute": dispute_from,
}


def object_from(data: JSON) -> GatewayObject | None:
    """The dataclass for one sandbox object; None for object types the mirror does not keep."""
    mapper = MAPPERS.get(str(data.get("object")))
    if mapper is None:
        return None
    try:
        return mapper(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"unreadable sandbox {data.get('object')}: {exc!r}") from exc
