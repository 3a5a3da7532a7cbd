"""Braintree SDK objects (``braintree.Transaction``, ``Customer``, ``Subscription``,
``Dispute``…) turned into the mirror's dataclasses.

The SDK has already parsed Braintree's XML into attributes: dates are ``datetime`` (naive,
UTC) or ``date``, amounts ``Decimal`` or decimal strings in the currency's major unit. Amounts
become integer minor units here, with the currency's exponent (JPY has none), never through
floats. Braintree documents its objects at
https://developer.paypal.com/braintree/docs/reference/response/transaction and the sibling pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billingdesk.core.errors import MalformedPayload
from billingdesk.core.money import currency_exponent
from billingdesk.gateways import interface as gw

# Braintree transaction statuses (Transaction.Status) → the mirror's.
_SALE_STATUS: dict[str, gw.ChargeStatus] = {
    "authorization_expired": gw.ChargeStatus.VOIDED,
    "authorized": gw.ChargeStatus.AUTHORIZED,
    "authorizing": gw.ChargeStatus.PENDING,
    "settlement_pending": gw.ChargeStatus.CAPTURED,
    "settlement_confirmed": gw.ChargeStatus.CAPTURED,
    "settlement_declined": gw.ChargeStatus.FAILED,
    "failed": gw.ChargeStatus.FAILED,
    "gateway_rejected": gw.ChargeStatus.FAILED,
    "processor_declined": gw.ChargeStatus.FAILED,
    "settled": gw.ChargeStatus.CAPTURED,
    "settling": gw.ChargeStatus.CAPTURED,
    "submitted_for_settlement": gw.ChargeStatus.CAPTURED,
    "voided": gw.ChargeStatus.VOIDED,
}
_REFUND_STATUS: dict[str, gw.RefundStatus] = {
    "authorized": gw.RefundStatus.PENDING,
    "authorizing": gw.RefundStatus.PENDING,
    "submitted_for_settlement": gw.RefundStatus.SUCCEEDED,
    "settling": gw.RefundStatus.SUCCEEDED,
    "settled": gw.RefundStatus.SUCCEEDED,
    "settlement_pending": gw.RefundStatus.SUCCEEDED,
    "settlement_confirmed": gw.RefundStatus.SUCCEEDED,
    "voided": gw.RefundStatus.CANCELED,
}
# Refund statuses whose money did not (or will not) go back.
REFUND_LOST = frozenset(
    {"voided", "failed", "gateway_rejected", "processor_declined", "settlement_declined"}
)
# Statuses Braintree refunds; before them a sale is voided instead.
REFUNDABLE = frozenset({"settled", "settling"})
VOIDABLE = frozenset({"authorized", "submitted_for_settlement", "settlement_pending"})
_SUBSCRIPTION_STATUS: dict[str, gw.SubscriptionStatus] = {
    "Active": gw.SubscriptionStatus.ACTIVE,
    "Canceled": gw.SubscriptionStatus.CANCELED,
    "Expired": gw.SubscriptionStatus.CANCELED,
    "Past Due": gw.SubscriptionStatus.PAST_DUE,
    "Pending": gw.SubscriptionStatus.TRIALING,
}
_DISPUTE_STATUS: dict[str, gw.DisputeStatus] = {
    "open": gw.DisputeStatus.NEEDS_RESPONSE,
    "accepted": gw.DisputeStatus.LOST,
    "auto_accepted": gw.DisputeStatus.LOST,
    "disputed": gw.DisputeStatus.UNDER_REVIEW,
    "under_review": gw.DisputeStatus.UNDER_REVIEW,
    "expired": gw.DisputeStatus.LOST,
    "lost": gw.DisputeStatus.LOST,
    "won": gw.DisputeStatus.WON,
}


def minor(amount: Any, currency: str) -> int:
    """A Braintree decimal amount ("12.34", Decimal) as integer minor units of ``currency``."""
    if amount is None or amount == "":
        return 0
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise MalformedPayload(f"not a Braintree amount: {amount!r}") from None
    scaled = value.scaleb(currency_exponent(currency or "USD"))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decimal_text(amount: int, currency: str) -> str:
    """Integer minor units as the decimal string Braintree's API takes ("12.34"; "1234" JPY)."""
    exponent = currency_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def when(value: Any) -> datetime | None:
    """The SDK's naive-UTC datetimes and plain dates, made timezone-aware."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    value = getattr(obj, name, default)
    return default if value is None else value


def _raw(obj: Any) -> dict[str, Any]:
    """A JSON-safe summary of the SDK object's attributes, kept as the mirror's ``raw``."""
    out: dict[str, Any] = {}
    for key, value in vars(obj).items():
        if key.startswith("_") or key == "gateway":
            continue
        if isinstance(value, str | int | bool) or value is None:
            out[key] = value
        elif isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
    return out


def _with_history(txn: Any) -> dict[str, Any]:
    """The raw summary of a transaction with its status history (status, time, amount)."""
    raw = _raw(txn)
    raw["status_history"] = [
        {
            "status": str(_get(event, "status", "")),
            "timestamp": (when(_get(event, "timestamp")) or datetime.min).isoformat(),
            "amount": str(_get(event, "amount", "")),
        }
        for event in _get(txn, "status_history", [])
    ]
    return raw


def _version(obj: Any, fetched: datetime) -> datetime:
    return when(_get(obj, "updated_at")) or when(_get(obj, "created_at")) or fetched


# --- customers and payment methods ---------------------------------------------------------
def customer(obj: Any, fetched: datetime, *, version: datetime | None = None) -> gw.GwCustomer:
    name = " ".join(p for p in (_get(obj, "first_name", ""), _get(obj, "last_name", "")) if p)
    return gw.GwCustomer(
        id=str(obj.id),
        updated=version or _version(obj, fetched),
        created=when(_get(obj, "created_at")),
        raw=_raw(obj),
        email=str(_get(obj, "email", "")),
        name=name or str(_get(obj, "company", "")),
        phone=str(_get(obj, "phone", "")),
        description=str(_get(obj, "company", "")),
    )


def payment_method(obj: Any, customer_id: str, fetched: datetime) -> gw.GwPaymentMethod:
    """A vaulted card, or a PayPal account (kept as a method of type ``paypal``)."""
    if hasattr(obj, "last_4"):
        month, year = _get(obj, "expiration_month", ""), _get(obj, "expiration_year", "")
        return gw.GwPaymentMethod(
            id=str(obj.token),
            updated=_version(obj, fetched),
            created=when(_get(obj, "created_at")),
            raw=_raw(obj),
            customer_id=customer_id,
            method_type="card",
            brand=str(_get(obj, "card_type", "")).lower().replace(" ", "_"),
            last4=str(_get(obj, "last_4", "")),
            exp_month=int(month) if str(month).isdigit() else None,
            exp_year=int(year) if str(year).isdigit() else None,
            fingerprint=str(_get(obj, "unique_number_identifier", "")),
            is_default=bool(_get(obj, "default", False)),
        )
    return gw.GwPaymentMethod(
        id=str(obj.token),
        updated=_version(obj, fetched),
        created=when(_get(obj, "created_at")),
        raw=_raw(obj),
        customer_id=customer_id,
        # A PayPal account (its payer email is kept in ``raw``), or another wallet.
        method_type="paypal" if hasattr(obj, "billing_agreement_id") else "other",
        brand="paypal" if hasattr(obj, "billing_agreement_id") else "",
        is_default=bool(_get(obj, "default", False)),
    )


def customer_bundle(
    obj: Any, fetched: datetime, currency: str = "", plans: Mapping[str, int] | None = None
) -> list[gw.GatewayObject]:
    """The customer, each of its payment methods and the subscriptions billed to them
    (Braintree lists a customer's subscriptions under its payment methods)."""
    objects: list[gw.GatewayObject] = [customer(obj, fetched)]
    for method in _get(obj, "payment_methods", []):
        objects.append(payment_method(method, str(obj.id), fetched))
        for sub in _get(method, "subscriptions", []):
            objects.extend(subscription_bundle(sub, str(obj.id), fetched, currency, plans))
    return objects


# --- transactions --------------------------------------------------------------------------
def _is_refund(txn: Any) -> bool:
    return str(_get(txn, "type", "")) == "credit"


def charge(txn: Any, fetched: datetime, *, refunded: int = 0) -> gw.GwCharge:
    """A sale. ``refunded``: minor units refunded so far (from its linked credits)."""
    currency = str(_get(txn, "currency_iso_code", "")).upper()
    amount = minor(txn.amount, currency)
    status = _SALE_STATUS.get(str(_get(txn, "status", "")), gw.ChargeStatus.PENDING)
    captured = amount if status is gw.ChargeStatus.CAPTURED else 0
    if status is gw.ChargeStatus.CAPTURED and refunded:
        status = (
            gw.ChargeStatus.REFUNDED if refunded >= captured else gw.ChargeStatus.PARTIALLY_REFUNDED
        )
    details = _get(txn, "customer_details")
    card = _get(txn, "credit_card_details")
    paypal = _get(txn, "paypal_details")
    brand = last4 = method_token = ""
    if card is not None and _get(card, "last_4"):
        brand = str(_get(card, "card_type", "")).lower().replace(" ", "_")
        last4, method_token = str(card.last_4), str(_get(card, "token", ""))
    elif paypal is not None:
        brand, method_token = "paypal", str(_get(paypal, "token", ""))
    declined = status is gw.ChargeStatus.FAILED
    return gw.GwCharge(
        id=str(txn.id),
        updated=_version(txn, fetched),
        created=when(_get(txn, "created_at")),
        raw=_with_history(txn),
        customer_id=str(details.id) if details is not None and _get(details, "id") else None,
        amount=amount,
        currency=currency,
        status=status,
        amount_captured=captured,
        amount_refunded=min(refunded, captured),
        description=str(_get(txn, "plan_id", "") or ""),
        order_id=str(_get(txn, "order_id", "")),
        alt_id=str(_get(txn, "subscription_id", "") or ""),
        payment_method_id=method_token or None,
        card_brand=brand,
        card_last4=last4,
        failure_code=str(_get(txn, "processor_response_code", "")) if declined else "",
        failure_message=str(_get(txn, "processor_response_text", "")) if declined else "",
        receipt_email=str(_get(details, "email", "")) if details is not None else "",
    )


def refund(txn: Any, fetched: datetime) -> gw.GwRefund:
    """A credit transaction that refunds a sale (``refunded_transaction_id``)."""
    currency = str(_get(txn, "currency_iso_code", "")).upper()
    return gw.GwRefund(
        id=str(txn.id),
        updated=_version(txn, fetched),
        created=when(_get(txn, "created_at")),
        raw=_with_history(txn),
        charge_id=str(txn.refunded_transaction_id),
        amount=minor(txn.amount, currency),
        currency=currency,
        status=_REFUND_STATUS.get(str(_get(txn, "status", "")), gw.RefundStatus.FAILED),
    )


def refunded_amount(refunds: Iterable[Any]) -> int:
    return sum(
        minor(r.amount, str(_get(r, "currency_iso_code", "")))
        for r in refunds
        if str(r.status) not in REFUND_LOST
    )


def transaction_bundle(
    txn: Any,
    fetched: datetime,
    refunds: dict[str, Any] | None = None,
    *,
    with_customer: bool = True,
) -> list[gw.GatewayObject]:
    """A sale with its refunds (given, by id, when known), or a refund; a credit that
    refunds nothing (a standalone credit) has no place in the mirror and is left out.
    The customer travels along as the transaction saw it, versioned at the transaction's
    creation: Braintree copies the customer's details into the transaction then (a backfill,
    which walks the customers themselves, leaves it out: ``with_customer``)."""
    objects: list[gw.GatewayObject] = []
    details = _get(txn, "customer_details")
    created = when(_get(txn, "created_at")) or fetched
    if with_customer and details is not None and _get(details, "id"):
        objects.append(customer(details, fetched, version=created))
    if _is_refund(txn):
        if _get(txn, "refunded_transaction_id"):
            objects.append(refund(txn, fetched))
        return objects
    linked = [refunds[i] for i in _get(txn, "refund_ids", []) if refunds and i in refunds]
    objects.append(charge(txn, fetched, refunded=refunded_amount(linked)))
    objects.extend(refund(r, fetched) for r in linked)
    return objects


# --- subscriptions, discounts ----------------------------------------------------------------
def subscription(
    sub: Any,
    customer_id: str | None,
    fetched: datetime,
    currency: str = "",
    plans: Mapping[str, int] | None = None,
) -> gw.GwSubscription:
    """``currency``: the merchant account's, for a subscription that has not billed yet
    (Braintree's subscription carries none of its own); ``plans``: each plan's billing
    frequency in months (a subscription names only its plan)."""
    currency = _currency_of(sub) or currency.upper()
    status = _SUBSCRIPTION_STATUS.get(str(_get(sub, "status", "")), gw.SubscriptionStatus.ACTIVE)
    canceled = _status_time(sub, "Canceled") if status is gw.SubscriptionStatus.CANCELED else None
    frequency = _get(sub, "billing_frequency") or (plans or {}).get(str(_get(sub, "plan_id", "")))
    return gw.GwSubscription(
        id=str(sub.id),
        updated=_version(sub, fetched),
        created=when(_get(sub, "created_at")),
        raw=_raw(sub),
        customer_id=customer_id,
        status=status,
        product=str(_get(sub, "plan_id", "")),
        plan=str(_get(sub, "plan_id", "")),
        amount=minor(_get(sub, "price", 0), currency),
        currency=currency,
        interval=gw.Interval.MONTH,
        interval_count=int(str(frequency)) if str(frequency or "").isdigit() else 1,
        current_period_start=when(_get(sub, "billing_period_start_date")),
        current_period_end=when(_get(sub, "billing_period_end_date")),
        canceled_at=canceled,
        ended_at=canceled,
        trial_end=when(_get(sub, "first_billing_date")) if _get(sub, "trial_period") else None,
    )


def subscription_bundle(
    sub: Any,
    customer_id: str | None,
    fetched: datetime,
    currency: str = "",
    plans: Mapping[str, int] | None = None,
) -> list[gw.GatewayObject]:
    """The subscription, the discounts on it, and the payments it made (those with no
    refund yet: a refunded one's refunded amount is not in the subscription)."""
    objects: list[gw.GatewayObject] = [subscription(sub, customer_id, fetched, currency, plans)]
    for item in _get(sub, "discounts", []):
        objects.append(
            gw.GwDiscount(
                id=f"{sub.id}:{item.id}",
                updated=_version(sub, fetched),
                raw=_raw(item),
                coupon_id=str(item.id),
                customer_id=customer_id,
                subscription_id=str(sub.id),
            )
        )
    for txn in _get(sub, "transactions", []):
        if not _get(txn, "refund_ids", []):
            objects.extend(transaction_bundle(txn, fetched))
    return objects


def coupon(discount: Any, currency: str, fetched: datetime) -> gw.GwCoupon:
    """A discount defined in the Control Panel: a fixed amount off each billing cycle."""
    cycles = _get(discount, "number_of_billing_cycles")
    never = bool(_get(discount, "never_expires", cycles is None))
    return gw.GwCoupon(
        id=str(discount.id),
        updated=_version(discount, fetched),
        created=when(_get(discount, "created_at")),
        raw=_raw(discount),
        name=str(_get(discount, "name", "") or discount.id),
        amount_off=minor(_get(discount, "amount", 0), currency),
        currency=currency,
        duration="forever" if never else "repeating",
        duration_in_months=None if never else int(cycles or 0),
    )


def _currency_of(sub: Any) -> str:
    for txn in _get(sub, "transactions", []):
        code = _get(txn, "currency_iso_code")
        if code:
            return str(code).upper()
    return str(_get(sub, "currency_iso_code", "")).upper()


def _status_time(sub: Any, status: str) -> datetime | None:
    for event in reversed(_get(sub, "status_history", [])):
        if str(_get(event, "status", "")) == status:
            return when(_get(event, "timestamp"))
    return when(_get(sub, "updated_at"))


# --- disputes --------------------------------------------------------------------------------
def dispute(obj: Any, fetched: datetime) -> gw.GwDispute:
    currency = str(_get(obj, "currency_iso_code", "")).upper()
    txn = _get(obj, "transaction_details") or _get(obj, "transaction")
    return gw.GwDispute(
        id=str(obj.id),
        updated=_version(obj, fetched),
        created=when(_get(obj, "created_at")) or when(_get(obj, "received_date")),
        raw=_raw(obj),
        charge_id=str(_get(txn, "id", "")),
        amount=minor(_get(obj, "amount_disputed") or _get(obj, "amount"), currency),
        currency=currency,
        status=_DISPUTE_STATUS.get(str(_get(obj, "status", "")), gw.DisputeStatus.NEEDS_RESPONSE),
        reason=str(_get(obj, "reason", "")),
        evidence_due_by=when(_get(obj, "reply_by_date")),
    )
