"""WooCommerce REST v3 JSON (customers, orders, refunds, coupons, subscriptions) turned into
the mirror's dataclasses.

WooCommerce writes money as decimal strings in the currency's major unit (``"24.90"``,
``"-5.00"`` for a refund line in an order); they become integer minor units here with the
currency's exponent (JPY has none), through ``Decimal``, never floats. Dates come as
``2026-01-05T09:00:00`` without an offset: the ``*_gmt`` fields are read, as UTC.

An order is WooCommerce's payment record: each order that was paid (``date_paid`` set), or
is waiting for payment or failed, is mirrored as a charge whose id is the order id and whose
``order_id`` is the order *number* agents quote (a plugin may make it differ from the id);
its line items become the description and the product. The refunds the order lists (id,
reason, negative total) become refunds of that charge, so a backfill reads them with the
order, without one more call per order. Docs:
https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties and
https://woocommerce.github.io/subscriptions-rest-api-docs/.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billingdesk.core.errors import MalformedPayload
from billingdesk.core.money import currency_exponent
from billingdesk.gateways import interface as gw

# Order statuses that are not a charge (yet): a checkout the customer never finished.
NOT_A_CHARGE = frozenset({"checkout-draft", "trash", "auto-draft"})
_SUBSCRIPTION_STATUS: dict[str, gw.SubscriptionStatus] = {
    "pending": gw.SubscriptionStatus.INCOMPLETE,
    "active": gw.SubscriptionStatus.ACTIVE,
    "on-hold": gw.SubscriptionStatus.PAUSED,
    "pending-cancel": gw.SubscriptionStatus.ACTIVE,  # active until the term ends
    "cancelled": gw.SubscriptionStatus.CANCELED,
    "expired": gw.SubscriptionStatus.CANCELED,
    "switched": gw.SubscriptionStatus.CANCELED,
}
_INTERVALS = {p.value: p for p in gw.Interval}
# The meta key under which an action keeps the caller's idempotency key on what it creates.
IDEMPOTENCY_META = "_billingdesk_idempotency_key"


def minor(value: Any, currency: str) -> int:
    """A WooCommerce decimal string (or number as text) as integer minor units."""
    if value is None or value == "":
        return 0
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MalformedPayload(f"not a WooCommerce amount: {value!r}") from None
    if not amount.is_finite():
        raise MalformedPayload(f"not a WooCommerce amount: {value!r}")
    scaled = amount.scaleb(currency_exponent(currency or "EUR"))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decimal_text(amount: int, currency: str) -> str:
    """Integer minor units as the decimal string WooCommerce expects (``1250`` → ``12.50``)."""
    exponent = currency_exponent(currency or "EUR")
    value = Decimal(amount).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def when(value: Any) -> datetime | None:
    """A WooCommerce ``*_gmt`` date (``2026-01-05T09:00:00``, no offset) as aware UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPayload(f"not a WooCommerce date: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _id(value: Any) -> str | None:
    """A WooCommerce id as the mirror's, None for 0 / missing (a guest, no parent)."""
    if value in (None, "", 0, "0"):
        return None
    return str(value)


def _required(data: Mapping[str, Any], what: str) -> str:
    if not isinstance(data, Mapping) or data.get("id") in (None, ""):
        raise MalformedPayload(f"a WooCommerce {what} without an id")
    return str(data["id"])


def _stamp(data: Mapping[str, Any], fetched: datetime) -> tuple[datetime, datetime | None]:
    created = when(data.get("date_created_gmt"))
    updated = when(data.get("date_modified_gmt")) or created or fetched
    return updated, created


def _name(first: Any, last: Any) -> str:
    return " ".join(str(p).strip() for p in (first, last) if p and str(p).strip())


def customer(data: Mapping[str, Any], fetched: datetime) -> gw.GwCustomer:
    customer_id = _required(data, "customer")
    if not isinstance(data.get("email", ""), str):
        raise MalformedPayload("a WooCommerce customer's email must be text")
    billing = data.get("billing") or {}
    updated, created = _stamp(data, fetched)
    return gw.GwCustomer(
        id=customer_id,
        updated=updated,
        created=created,
        raw=data,
        email=str(data.get("email") or billing.get("email") or ""),
        name=_name(data.get("first_name"), data.get("last_name"))
        or _name(billing.get("first_name"), billing.get("last_name")),
        phone=str(billing.get("phone") or ""),
        country=str(billing.get("country") or "").upper()[:2],
        description=str(billing.get("company") or ""),
    )


def line_items_text(items: Any) -> str:
    """An order's line items in a line: ``2 x T-shirt, 1 x Mug``."""
    parts = []
    for item in items or []:
        if isinstance(item, Mapping):
            parts.append(f"{item.get('quantity', 1)} x {item.get('name') or '?'}")
    return ", ".join(parts)


def _refunded(data: Mapping[str, Any], currency: str) -> int:
    return sum(-minor(r.get("total"), currency) for r in data.get("refunds") or [])


def charge_status(data: Mapping[str, Any], total: int, refunded: int) -> gw.ChargeStatus:
    status = str(data.get("status") or "")
    if data.get("date_paid_gmt") or status in ("processing", "completed", "refunded"):
        if refunded >= total > 0 or status == "refunded":
            return gw.ChargeStatus.REFUNDED
        if refunded > 0:
            return gw.ChargeStatus.PARTIALLY_REFUNDED
        return gw.ChargeStatus.CAPTURED
    if status == "failed":
        return gw.ChargeStatus.FAILED
    if status == "cancelled":
        return gw.ChargeStatus.VOIDED
    return gw.ChargeStatus.PENDING


def order_bundle(data: Mapping[str, Any], fetched: datetime) -> list[gw.GatewayObject]:
    """An order as its charge and refunds ([] for a draft checkout)."""
    order_id = _required(data, "order")
    if str(data.get("status") or "") in NOT_A_CHARGE:
        return []
    currency = str(data.get("currency") or "").upper()
    if not currency:
        raise MalformedPayload("a WooCommerce order without a currency")
    total = minor(data.get("total"), currency)
    refunded = _refunded(data, currency)
    status = charge_status(data, total, refunded)
    updated, created = _stamp(data, fetched)
    billing = data.get("billing") or {}
    items = data.get("line_items") or []
    paid = status not in (gw.ChargeStatus.PENDING, gw.ChargeStatus.FAILED, gw.ChargeStatus.VOIDED)
    charge = gw.GwCharge(
        id=order_id,
        updated=updated,
        created=created,
        raw=data,
        customer_id=_id(data.get("customer_id")),
        amount=total,
        currency=currency,
        status=status,
        amount_captured=total if paid else 0,
        amount_refunded=min(refunded, total),
        description=line_items_text(items),
        product=str(items[0].get("name") or "") if items and isinstance(items[0], Mapping) else "",
        order_id=str(data.get("number") or order_id),
        # The payment plugin's own id (a Stripe charge, a PayPal capture): agents quote it too.
        alt_id=str(data.get("transaction_id") or ""),
        receipt_email=str(billing.get("email") or ""),
        failure_message="The order failed at checkout." if status == gw.ChargeStatus.FAILED else "",
    )
    objects: list[gw.GatewayObject] = [charge]
    for refund in data.get("refunds") or []:
        objects.append(
            gw.GwRefund(
                id=_required(refund, "refund"),
                updated=updated,
                raw=refund,
                charge_id=order_id,
                amount=-minor(refund.get("total"), currency),
                currency=currency,
                status=gw.RefundStatus.SUCCEEDED,
                reason=str(refund.get("reason") or ""),
            )
        )
    return objects


def refund(data: Mapping[str, Any], order_id: str, currency: str, fetched: datetime) -> gw.GwRefund:
    """A refund object (``/orders/<id>/refunds``) of an order."""
    created = when(data.get("date_created_gmt")) or fetched
    return gw.GwRefund(
        id=_required(data, "refund"),
        updated=created,
        created=created,
        raw=data,
        charge_id=order_id,
        amount=minor(data.get("amount"), currency),
        currency=currency,
        status=gw.RefundStatus.SUCCEEDED,
        reason=str(data.get("reason") or ""),
    )


def meta(data: Mapping[str, Any], key: str) -> str:
    for item in data.get("meta_data") or []:
        if isinstance(item, Mapping) and item.get("key") == key:
            return str(item.get("value") or "")
    return ""


def coupon(data: Mapping[str, Any], currency: str, fetched: datetime) -> gw.GwCoupon:
    coupon_id = _required(data, "coupon")
    updated, created = _stamp(data, fetched)
    kind = str(data.get("discount_type") or "fixed_cart")
    percent: int | None = None
    amount: int | None = None
    if kind == "percent":
        try:
            percent = int((Decimal(str(data.get("amount") or 0)) * 100).to_integral_value())
        except InvalidOperation:
            raise MalformedPayload(f"not a coupon amount: {data.get('amount')!r}") from None
    else:
        amount = minor(data.get("amount"), currency)
    expires = when(data.get("date_expires_gmt"))
    limit = data.get("usage_limit")
    used = int(data.get("usage_count") or 0)
    valid = (expires is None or expires > fetched) and not (limit and used >= int(limit))
    return gw.GwCoupon(
        id=coupon_id,
        updated=updated,
        created=created,
        raw=data,
        name=str(data.get("code") or ""),
        percent_off_bp=percent,
        amount_off=amount,
        currency="" if percent is not None else currency,
        duration="once",
        valid=valid,
    )


def subscription(data: Mapping[str, Any], fetched: datetime) -> gw.GwSubscription:
    sub_id = _required(data, "subscription")
    status = str(data.get("status") or "")
    currency = str(data.get("currency") or "").upper()
    updated, created = _stamp(data, fetched)
    items = data.get("line_items") or []
    first = items[0] if items and isinstance(items[0], Mapping) else {}
    ended = when(data.get("end_date_gmt"))
    canceled = when(data.get("cancelled_date_gmt"))
    if status in ("cancelled", "expired") and canceled is None:
        canceled = ended or updated
    try:
        count = max(1, int(data.get("billing_interval") or 1))
    except ValueError:
        raise MalformedPayload("a subscription's billing_interval must be a number") from None
    return gw.GwSubscription(
        id=sub_id,
        updated=updated,
        created=created,
        raw=data,
        customer_id=_id(data.get("customer_id")),
        status=_SUBSCRIPTION_STATUS.get(status, gw.SubscriptionStatus.INCOMPLETE),
        product=str(first.get("name") or ""),
        plan=str(first.get("product_id") or ""),
        amount=minor(data.get("total"), currency or "EUR"),
        currency=currency,
        interval=_INTERVALS.get(str(data.get("billing_period") or "month"), gw.Interval.MONTH),
        interval_count=count,
        quantity=int(first.get("quantity") or 1),
        current_period_start=when(data.get("last_payment_date_gmt"))
        or when(data.get("start_date_gmt")),
        current_period_end=when(data.get("next_payment_date_gmt")) or ended,
        cancel_at_period_end=status == "pending-cancel",
        canceled_at=canceled if status in ("cancelled", "expired", "pending-cancel") else None,
        ended_at=(ended or canceled) if status in ("cancelled", "expired") else None,
        trial_end=when(data.get("trial_end_date_gmt")),
    )
