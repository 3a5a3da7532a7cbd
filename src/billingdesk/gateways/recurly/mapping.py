"""Recurly's JSON objects (API v2021-02-25, parsed with Decimal amounts) as mirror objects.

Recurly speaks decimal numbers in the currency's major unit (``12.34`` dollars, ``1234`` yen):
they become integer minor units through the currency's exponent, never through a float.
An account is a customer (its billing info a payment method, its ``vat_number`` a tax id);
a purchase/capture transaction a charge, a refund transaction a refund of its
``original_transaction_id``; charge and credit invoices are invoices (a credit invoice keeps
Recurly's negative amounts, so a total over both kinds nets out).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billingdesk.core.errors import InvalidRequest, MalformedPayload
from billingdesk.core.money import currency_exponent
from billingdesk.gateways import interface as gw

_SUBSCRIPTION_STATUS = {
    "active": gw.SubscriptionStatus.ACTIVE,
    "in_trial": gw.SubscriptionStatus.TRIALING,
    "canceled": gw.SubscriptionStatus.ACTIVE,  # active until its term ends
    "expired": gw.SubscriptionStatus.CANCELED,
    "failed": gw.SubscriptionStatus.INCOMPLETE_EXPIRED,
    "future": gw.SubscriptionStatus.INCOMPLETE,
    "paused": gw.SubscriptionStatus.PAUSED,
}
_INVOICE_STATUS = {
    "pending": gw.InvoiceStatus.OPEN,
    "processing": gw.InvoiceStatus.OPEN,
    "past_due": gw.InvoiceStatus.OPEN,
    "open": gw.InvoiceStatus.OPEN,  # a credit invoice with credit left
    "paid": gw.InvoiceStatus.PAID,
    "closed": gw.InvoiceStatus.PAID,  # a credit invoice fully applied
    "failed": gw.InvoiceStatus.UNCOLLECTIBLE,
    "voided": gw.InvoiceStatus.VOID,
}
# Invoices Recurly still lets a customer pay (and an agent void).
OPEN_INVOICE_STATES = ("pending", "processing", "past_due")
_REFUND_STATUS = {
    "success": gw.RefundStatus.SUCCEEDED,
    "pending": gw.RefundStatus.PENDING,
    "processing": gw.RefundStatus.PENDING,
    "scheduled": gw.RefundStatus.PENDING,
    "void": gw.RefundStatus.CANCELED,
}
_INTERVALS = {"days": gw.Interval.DAY, "months": gw.Interval.MONTH}
CHARGE_TYPES = ("purchase", "capture", "authorization")


def when(value: Any) -> datetime | None:
    """An ISO 8601 time of Recurly's (``2026-01-05T09:00:00Z``), timezone-aware."""
    if value is None or value == "":
        return None
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPayload(f"not a Recurly time: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def minor(amount: Any, currency: str) -> int:
    """A Recurly decimal amount (a Decimal from the JSON, or text) in minor units."""
    if amount is None or amount == "":
        return 0
    if isinstance(amount, float):
        raise MalformedPayload("Recurly amounts must be read as Decimal, never as floats.")
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise MalformedPayload(f"not a Recurly amount: {amount!r}") from None
    scaled = value.scaleb(currency_exponent(currency or "USD"))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def major(amount: int, currency: str) -> Decimal:
    """Integer minor units as the decimal Recurly takes (``1234`` USD → ``12.34``)."""
    exponent = currency_exponent(currency)
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def wire_amount(amount: int, currency: str) -> float:
    """The amount as the client's JSON encoder needs it. The client serialises with
    ``json.dumps``, which writes a float as its shortest round-trip digits: for an amount of
    at most 15 significant digits those are exactly the decimal's, checked here."""
    exact = major(amount, currency)
    value = float(exact)
    if Decimal(repr(value)) != exact:
        raise InvalidRequest(f"{exact} {currency} is too large an amount to send to Recurly.")
    return value


def stored(value: Any) -> Any:
    """The vendor payload as the mirror keeps it (JSON): amounts as their exact decimal text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stored(v) for v in value]
    return value


def _account_id(obj: Mapping[str, Any]) -> str | None:
    account = obj.get("account")
    if isinstance(account, Mapping) and account.get("id"):
        return str(account["id"])
    return None


def _updated(obj: Mapping[str, Any], fallback: datetime) -> datetime:
    return when(obj.get("updated_at")) or when(obj.get("created_at")) or fallback


# --- accounts ----------------------------------------------------------------------------
def customer_bundle(account: Mapping[str, Any], fetched: datetime) -> list[gw.GatewayObject]:
    """The customer, their billing info (as a payment method) and their VAT number."""
    ident = str(account["id"])
    updated = _updated(account, fetched)
    name = " ".join(p for p in (account.get("first_name"), account.get("last_name")) if p)
    company = str(account.get("company") or "")
    address = account.get("address") or {}
    deleted = account.get("state") == "inactive" or bool(account.get("deleted_at"))
    objects: list[gw.GatewayObject] = [
        gw.GwCustomer(
            id=ident,
            updated=updated,
            created=when(account.get("created_at")),
            raw=stored(account),
            email=str(account.get("email") or ""),
            name=name or company,
            country=str(address.get("country") or "").upper()[:2],
            description=company if name else "",
            deleted=deleted,
        )
    ]
    info = account.get("billing_info")
    if isinstance(info, Mapping) and info.get("id"):
        objects.append(payment_method(info, ident, fetched))
    vat = str(account.get("vat_number") or "").strip()
    if vat:
        objects.append(
            gw.GwTaxId(
                id=f"{ident}:vat_number",
                updated=updated,
                customer_id=ident,
                tax_type="eu_vat",
                value=vat,
                country=str(address.get("country") or "").upper()[:2],
                verification="unverified",
            )
        )
    return objects


def payment_method(
    info: Mapping[str, Any], account_id: str, fetched: datetime
) -> gw.GwPaymentMethod:
    method = info.get("payment_method") or {}
    kind = str(method.get("object") or "credit_card")
    return gw.GwPaymentMethod(
        id=str(info["id"]),
        updated=_updated(info, fetched),
        created=when(info.get("created_at")),
        raw=stored(info),
        customer_id=account_id,
        method_type="card" if kind == "credit_card" else kind,
        brand=str(method.get("card_type") or "").lower(),
        last4=str(method.get("last_four") or ""),
        exp_month=method.get("exp_month"),
        exp_year=method.get("exp_year"),
        is_default=bool(info.get("primary_payment_method", True)),
    )


# --- coupons -----------------------------------------------------------------------------
def coupon(c: Mapping[str, Any], fetched: datetime, currency: str) -> gw.GwCoupon:
    discount = c.get("discount") or {}
    percent = discount.get("percent")
    amounts = discount.get("currencies") or []
    chosen = next(
        (a for a in amounts if a.get("currency") == currency), amounts[0] if amounts else None
    )
    duration = str(c.get("duration") or "forever")
    months = None
    if duration == "temporal" and c.get("temporal_unit") == "month":
        months = int(c.get("temporal_amount") or 0) or None
    return gw.GwCoupon(
        id=str(c.get("code") or c["id"]),
        updated=_updated(c, fetched),
        created=when(c.get("created_at")),
        raw=stored(c),
        name=str(c.get("name") or c.get("code") or ""),
        percent_off_bp=int(Decimal(str(percent)) * 100) if percent is not None else None,
        amount_off=minor(chosen["amount"], str(chosen["currency"])) if chosen else None,
        currency=str(chosen["currency"]) if chosen else "",
        duration={"single_use": "once", "temporal": "repeating"}.get(duration, "forever"),
        duration_in_months=months,
        valid=c.get("state") == "redeemable",
    )


def discount(
    redemption: Mapping[str, Any],
    fetched: datetime,
    *,
    account_id: str | None,
    subscription_id: str | None,
) -> gw.GwDiscount:
    c = redemption.get("coupon") or {}
    return gw.GwDiscount(
        id=str(redemption["id"]),
        updated=_updated(redemption, fetched),
        created=when(redemption.get("created_at")),
        raw=stored(redemption),
        coupon_id=str(c.get("code") or c.get("id") or ""),
        customer_id=account_id,
        subscription_id=subscription_id or redemption.get("subscription_id"),
        start=when(redemption.get("created_at")),
        deleted=redemption.get("state") not in (None, "active"),
    )


# --- subscriptions -----------------------------------------------------------------------
def subscription_bundle(
    sub: Mapping[str, Any], fetched: datetime, plans: Mapping[str, Mapping[str, Any]]
) -> list[gw.GatewayObject]:
    """The subscription (its plan and add-ons as the product) and its coupon redemptions."""
    ident = str(sub["id"])
    currency = str(sub.get("currency") or "")
    plan = sub.get("plan") or {}
    code = str(plan.get("code") or "")
    known = plans.get(code) or {}
    state = str(sub.get("state") or "active")
    add_ons = [a for a in sub.get("add_ons") or [] if isinstance(a, Mapping)]
    product = str(plan.get("name") or code)
    if add_ons:
        names = ", ".join(
            f"{(a.get('add_on') or {}).get('name') or (a.get('add_on') or {}).get('code')}"
            f" x{a.get('quantity', 1)}"
            for a in add_ons
        )
        product = f"{product} + {names}"
    quantity = int(sub.get("quantity") or 1)
    amount = minor(sub.get("unit_amount"), currency) * quantity + sum(
        minor(a.get("unit_amount"), currency) * int(a.get("quantity") or 1) for a in add_ons
    )
    account_id = _account_id(sub)
    objects: list[gw.GatewayObject] = [
        gw.GwSubscription(
            id=ident,
            updated=_updated(sub, fetched),
            created=when(sub.get("created_at")),
            raw=stored(sub),
            customer_id=account_id,
            status=_SUBSCRIPTION_STATUS.get(state, gw.SubscriptionStatus.ACTIVE),
            product=product,
            plan=code,
            amount=amount,
            currency=currency,
            interval=_INTERVALS.get(str(known.get("interval_unit")), gw.Interval.MONTH),
            interval_count=int(known.get("interval_length") or 1),
            quantity=quantity,
            current_period_start=when(sub.get("current_period_started_at")),
            current_period_end=when(sub.get("current_period_ends_at")),
            cancel_at_period_end=state == "canceled",
            canceled_at=when(sub.get("canceled_at")),
            ended_at=when(sub.get("expires_at")) if state == "expired" else None,
            trial_start=when(sub.get("trial_started_at")),
            trial_end=when(sub.get("trial_ends_at")),
        )
    ]
    for redemption in sub.get("coupon_redemptions") or []:
        if isinstance(redemption, Mapping) and redemption.get("id"):
            objects.append(
                discount(redemption, fetched, account_id=account_id, subscription_id=ident)
            )
    return objects


# --- invoices ------------------------------------------------------------------------------
def invoice(inv: Mapping[str, Any], fetched: datetime) -> gw.GwInvoice:
    currency = str(inv.get("currency") or "")
    state = str(inv.get("state") or "pending")
    subs = inv.get("subscription_ids") or []
    txns = [t for t in inv.get("transactions") or [] if isinstance(t, Mapping)]
    paying = next(
        (t for t in txns if t.get("type") in CHARGE_TYPES and t.get("status") == "success"), None
    )
    credit = inv.get("type") == "credit"
    number = str(inv.get("number") or "")
    return gw.GwInvoice(
        id=str(inv["id"]),
        updated=_updated(inv, fetched),
        created=when(inv.get("created_at")),
        raw=stored(inv),
        customer_id=_account_id(inv),
        status=_INVOICE_STATUS.get(state, gw.InvoiceStatus.OPEN),
        currency=currency,
        number=f"CR-{number}" if credit and number else number,
        subscription_id=str(subs[0]) if subs else None,
        subtotal=minor(inv.get("subtotal"), currency),
        tax=minor(inv.get("tax"), currency),
        total=minor(inv.get("total"), currency),
        amount_due=minor(inv.get("balance"), currency) if state in OPEN_INVOICE_STATES else 0,
        amount_paid=minor(inv.get("paid"), currency),
        due_date=when(inv.get("due_at")),
        charge_id=str(paying["id"]) if paying else None,
    )


# --- transactions --------------------------------------------------------------------------
def charge_status(txn: Mapping[str, Any], refunded: int, amount: int) -> gw.ChargeStatus:
    status = str(txn.get("status") or "")
    if status in ("declined", "error"):
        return gw.ChargeStatus.FAILED
    if status == "void":
        return gw.ChargeStatus.VOIDED
    if status == "chargeback":
        return gw.ChargeStatus.DISPUTED
    if status != "success":
        return gw.ChargeStatus.PENDING
    if txn.get("type") == "authorization":
        return gw.ChargeStatus.AUTHORIZED
    if refunded >= amount > 0:
        return gw.ChargeStatus.REFUNDED
    if refunded:
        return gw.ChargeStatus.PARTIALLY_REFUNDED
    return gw.ChargeStatus.CAPTURED


def transaction(
    txn: Mapping[str, Any], fetched: datetime, refunded: Mapping[str, int]
) -> gw.GatewayObject | None:
    """A purchase as a charge (``refunded``: minor units refunded, by transaction id), a
    refund as a refund; a card verification is neither (None)."""
    ident = str(txn["id"])
    currency = str(txn.get("currency") or "")
    amount = minor(txn.get("amount"), currency)
    kind = str(txn.get("type") or "")
    updated = _updated(txn, fetched)
    if kind == "refund":
        original = txn.get("original_transaction_id")
        if not original:
            return None
        return gw.GwRefund(
            id=ident,
            updated=updated,
            created=when(txn.get("created_at")),
            raw=stored(txn),
            charge_id=str(original),
            amount=amount,
            currency=currency,
            status=_REFUND_STATUS.get(str(txn.get("status")), gw.RefundStatus.FAILED),
        )
    if kind not in CHARGE_TYPES:
        return None
    back = min(refunded.get(ident, 0), amount)
    method = txn.get("payment_method") or {}
    invoice_ref = txn.get("invoice") or {}
    account = txn.get("account") or {}
    status = charge_status(txn, back, amount)
    succeeded = status not in (gw.ChargeStatus.FAILED, gw.ChargeStatus.PENDING)
    return gw.GwCharge(
        id=ident,
        updated=updated,
        created=when(txn.get("created_at")),
        raw=stored(txn),
        customer_id=_account_id(txn),
        amount=amount,
        currency=currency,
        status=status,
        amount_captured=amount if succeeded and kind != "authorization" else 0,
        amount_refunded=back,
        description=f"Invoice #{invoice_ref['number']}" if invoice_ref.get("number") else "",
        alt_id=str(txn.get("uuid") or ""),
        card_brand=str(method.get("card_type") or "").lower(),
        card_last4=str(method.get("last_four") or ""),
        invoice_id=str(invoice_ref["id"]) if invoice_ref.get("type") == "charge" else None,
        failure_code=str(txn.get("status_code") or "") if not succeeded else "",
        failure_message=str(txn.get("status_message") or "") if not succeeded else "",
        receipt_email=str(account.get("email") or ""),
    )


def refunded_amounts(refunds: list[Mapping[str, Any]]) -> dict[str, int]:
    """Minor units refunded per original transaction, from successful refund transactions."""
    total: dict[str, int] = {}
    for r in refunds:
        if r.get("type") == "refund" and r.get("status") == "success":
            original = str(r.get("original_transaction_id") or "")
            if original:
                total[original] = total.get(original, 0) + minor(
                    r.get("amount"), str(r.get("currency") or "")
                )
    return total
