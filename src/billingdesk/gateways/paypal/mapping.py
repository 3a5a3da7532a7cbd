"""PayPal's JSON as the gateway interface's dataclasses, and amounts at the edge.

PayPal has no customer object: a customer is a payer, identified by the payer id PayPal gives
each PayPal account (``payer.payer_id``, ``payer_info.account_id``, ``subscriber.payer_id``),
with the payer's email and name. Charges are captures (a completed payment) and
authorisations that are not captured yet; a capture made from an authorisation names it as
``alt_id`` and the authorisation (a payment attempt, its own ``alt_id``) is then
superseded by it in the mirror: the capture is the charge. Refunds name their capture
through their ``up`` link.

Amounts are ``{"currency_code": "EUR", "value": "12.34"}``: converted with the currency's
exponent (JPY has none) through ``Decimal``, never floats. PayPal takes HUF and TWD in whole
units only, though ISO 4217 gives them two decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billingdesk.core.errors import InvalidRequest, MalformedPayload
from billingdesk.core.money import currency_exponent
from billingdesk.gateways import interface as gw

JSON = dict[str, Any]
# Currencies PayPal takes without decimals although ISO 4217 gives them minor units.
_WHOLE_UNITS_ONLY = frozenset({"HUF", "TWD"})

_CAPTURE_STATUS = {
    "COMPLETED": gw.ChargeStatus.CAPTURED,
    "PARTIALLY_REFUNDED": gw.ChargeStatus.PARTIALLY_REFUNDED,
    "REFUNDED": gw.ChargeStatus.REFUNDED,
    "PENDING": gw.ChargeStatus.PENDING,
    "DECLINED": gw.ChargeStatus.FAILED,
    "FAILED": gw.ChargeStatus.FAILED,
}
_AUTH_STATUS = {
    "CREATED": gw.ChargeStatus.AUTHORIZED,
    "PENDING": gw.ChargeStatus.PENDING,
    "VOIDED": gw.ChargeStatus.VOIDED,
    "EXPIRED": gw.ChargeStatus.VOIDED,
    "DENIED": gw.ChargeStatus.FAILED,
}
CAPTURED_AUTH = frozenset({"CAPTURED", "PARTIALLY_CAPTURED"})
_REFUND_STATUS = {
    "COMPLETED": gw.RefundStatus.SUCCEEDED,
    "PENDING": gw.RefundStatus.PENDING,
    "FAILED": gw.RefundStatus.FAILED,
    "CANCELLED": gw.RefundStatus.CANCELED,
}
_SUBSCRIPTION_STATUS = {
    "APPROVAL_PENDING": gw.SubscriptionStatus.INCOMPLETE,
    "APPROVED": gw.SubscriptionStatus.INCOMPLETE,
    "ACTIVE": gw.SubscriptionStatus.ACTIVE,
    "SUSPENDED": gw.SubscriptionStatus.PAUSED,
    "CANCELLED": gw.SubscriptionStatus.CANCELED,
    "EXPIRED": gw.SubscriptionStatus.CANCELED,
}
_INTERVAL = {
    "DAY": gw.Interval.DAY,
    "WEEK": gw.Interval.WEEK,
    "MONTH": gw.Interval.MONTH,
    "YEAR": gw.Interval.YEAR,
}
_DISPUTE_STATUS = {
    "OPEN": gw.DisputeStatus.NEEDS_RESPONSE,
    "WAITING_FOR_SELLER_RESPONSE": gw.DisputeStatus.NEEDS_RESPONSE,
    "WAITING_FOR_BUYER_RESPONSE": gw.DisputeStatus.UNDER_REVIEW,
    "UNDER_REVIEW": gw.DisputeStatus.UNDER_REVIEW,
    "RESOLVED": gw.DisputeStatus.UNDER_REVIEW,  # refined by dispute_outcome below
    "OTHER": gw.DisputeStatus.UNDER_REVIEW,
}
_DISPUTE_OUTCOME = {
    "RESOLVED_SELLER_FAVOUR": gw.DisputeStatus.WON,
    "RESOLVED_BUYER_FAVOUR": gw.DisputeStatus.LOST,
    "RESOLVED_WITH_PAYOUT": gw.DisputeStatus.LOST,
    "REFUNDED": gw.DisputeStatus.LOST,
    "ACCEPTED": gw.DisputeStatus.LOST,
    "CANCELED_BY_BUYER": gw.DisputeStatus.WON,
    "DENIED": gw.DisputeStatus.WON,
}


# --- amounts and times -------------------------------------------------------------------
def minor(amount: Mapping[str, Any] | None) -> tuple[int, str]:
    """PayPal's money object as (integer minor units, currency)."""
    if not amount:
        return 0, ""
    currency = str(amount.get("currency_code") or "").upper()
    try:
        value = Decimal(str(amount.get("value")))
    except (InvalidOperation, TypeError):
        raise MalformedPayload(f"not a PayPal amount: {amount!r}") from None
    if not value.is_finite():
        raise MalformedPayload(f"not a PayPal amount: {amount!r}")
    scaled = value.scaleb(currency_exponent(currency or "USD"))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency


def money(amount: int, currency: str) -> JSON:
    """Integer minor units as PayPal's money object ("12.34" EUR, "1234" JPY)."""
    code = currency.upper()
    exponent = currency_exponent(code)
    value = Decimal(amount).scaleb(-exponent)
    if code in _WHOLE_UNITS_ONLY:
        if value != value.to_integral_value():
            raise InvalidRequest(f"PayPal takes {code} amounts in whole units only.")
        return {"currency_code": code, "value": f"{value:.0f}"}
    return {"currency_code": code, "value": f"{value:.{exponent}f}"}


def when(value: Any) -> datetime | None:
    """PayPal's times: RFC 3339 ``2026-01-05T09:00:00Z`` and Transaction Search's
    ``2026-01-05T09:00:00+0000``."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _version(obj: Mapping[str, Any], fetched: datetime) -> datetime:
    return when(obj.get("update_time")) or when(obj.get("create_time")) or fetched


def link(obj: Mapping[str, Any], rel: str) -> str:
    for item in obj.get("links") or []:
        if isinstance(item, dict) and item.get("rel") == rel:
            return str(item.get("href") or "")
    return ""


def _tail(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1] if href else ""


def related(obj: Mapping[str, Any], name: str) -> str:
    ids = (obj.get("supplementary_data") or {}).get("related_ids") or {}
    return str(ids.get(name) or "")


# --- payers ----------------------------------------------------------------------------------
def payer(data: Mapping[str, Any] | None, version: datetime) -> gw.GwCustomer | None:
    """An order's ``payer`` or a subscription's ``subscriber`` as a customer."""
    if not data or not data.get("payer_id"):
        return None
    name = data.get("name") or {}
    full = " ".join(p for p in (name.get("given_name"), name.get("surname")) if p)
    return gw.GwCustomer(
        id=str(data["payer_id"]),
        updated=version,
        raw=dict(data),
        email=str(data.get("email_address") or ""),
        name=full or str(name.get("full_name") or ""),
        country=str(((data.get("address") or {}).get("country_code")) or "").upper(),
    )


def payer_info(data: Mapping[str, Any] | None, version: datetime) -> gw.GwCustomer | None:
    """Transaction Search's ``payer_info`` as a customer."""
    if not data or not data.get("account_id"):
        return None
    name = data.get("payer_name") or {}
    full = " ".join(p for p in (name.get("given_name"), name.get("surname")) if p)
    return gw.GwCustomer(
        id=str(data["account_id"]),
        updated=version,
        raw=dict(data),
        email=str(data.get("email_address") or ""),
        name=full or str(name.get("alternate_full_name") or ""),
        country=str(data.get("country_code") or "").upper(),
    )


# --- captures, authorisations, refunds -------------------------------------------------------
def capture(
    obj: Mapping[str, Any],
    fetched: datetime,
    *,
    customer_id: str | None,
    refunded: int | None = None,
    email: str = "",
    description: str = "",
    invoice_id: str = "",
) -> gw.GwCharge:
    """A capture. ``refunded``: minor units refunded so far, when known (else from status)."""
    amount, currency = minor(obj.get("amount"))
    status_text = str(obj.get("status") or "")
    status = _CAPTURE_STATUS.get(status_text, gw.ChargeStatus.PENDING)
    settled = status in (
        gw.ChargeStatus.CAPTURED,
        gw.ChargeStatus.PARTIALLY_REFUNDED,
        gw.ChargeStatus.REFUNDED,
    )
    if refunded is None:
        refunded = amount if status is gw.ChargeStatus.REFUNDED else 0
    if settled:
        if refunded >= amount:
            status = gw.ChargeStatus.REFUNDED
        elif refunded > 0:
            status = gw.ChargeStatus.PARTIALLY_REFUNDED
        else:
            status = gw.ChargeStatus.CAPTURED
    declined = status is gw.ChargeStatus.FAILED
    reason = (obj.get("status_details") or {}).get("reason") or ""
    return gw.GwCharge(
        id=str(obj["id"]),
        updated=_version(obj, fetched),
        created=when(obj.get("create_time")),
        raw=dict(obj),
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        status=status,
        amount_captured=amount if settled else 0,
        amount_refunded=min(refunded, amount) if settled else 0,
        description=description,
        order_id=invoice_id or str(obj.get("invoice_id") or ""),
        alt_id=related(obj, "authorization_id") or related(obj, "order_id"),
        card_brand="paypal",
        failure_code=str(reason or status_text).lower() if declined else "",
        failure_message=str(reason) if declined else "",
        receipt_email=email,
    )


def authorization(
    obj: Mapping[str, Any], fetched: datetime, *, customer_id: str | None, email: str = ""
) -> gw.GwCharge:
    """An authorisation not captured (yet); once captured it leaves the mirror (``deleted``):
    its capture, which names it as ``alt_id``, is the charge."""
    amount, currency = minor(obj.get("amount"))
    status_text = str(obj.get("status") or "")
    status = _AUTH_STATUS.get(status_text, gw.ChargeStatus.AUTHORIZED)
    return gw.GwCharge(
        id=str(obj["id"]),
        updated=_version(obj, fetched),
        created=when(obj.get("create_time")),
        raw=dict(obj),
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        status=status,
        # An attempt, in the mirror's words: the capture naming it as ``alt_id`` supersedes it.
        alt_id=str(obj["id"]),
        card_brand="paypal",
        receipt_email=email,
        failure_code="denied" if status is gw.ChargeStatus.FAILED else "",
        deleted=status_text in CAPTURED_AUTH,
    )


def refund(obj: Mapping[str, Any], fetched: datetime, capture_id: str = "") -> gw.GwRefund:
    amount, currency = minor(obj.get("amount"))
    return gw.GwRefund(
        id=str(obj["id"]),
        updated=_version(obj, fetched),
        created=when(obj.get("create_time")),
        raw=dict(obj),
        charge_id=capture_id or _tail(link(obj, "up")),
        amount=amount,
        currency=currency,
        status=_REFUND_STATUS.get(str(obj.get("status") or ""), gw.RefundStatus.PENDING),
        reason=str(obj.get("note_to_payer") or ""),
    )


def order_bundle(order: Mapping[str, Any], fetched: datetime) -> list[gw.GatewayObject]:
    """An order with everything it holds: its payer (the customer), each capture with its
    refunded amount exact (the order lists every refund), the authorisations, the refunds."""
    version = _version(order, fetched)
    customer = payer(order.get("payer"), version)
    customer_id = customer.id if customer else None
    email = customer.email if customer else ""
    objects: list[gw.GatewayObject] = [customer] if customer else []
    for unit in order.get("purchase_units") or []:
        payments = unit.get("payments") or {}
        refunds = [refund(r, fetched) for r in payments.get("refunds") or []]
        lost = (gw.RefundStatus.FAILED, gw.RefundStatus.CANCELED)
        for item in payments.get("captures") or []:
            done = sum(
                r.amount for r in refunds if r.charge_id == item["id"] and r.status not in lost
            )
            objects.append(
                capture(
                    item,
                    fetched,
                    customer_id=customer_id,
                    refunded=done,
                    email=email,
                    description=str(unit.get("description") or ""),
                    invoice_id=str(unit.get("invoice_id") or ""),
                )
            )
        for item in payments.get("authorizations") or []:
            objects.append(authorization(item, fetched, customer_id=customer_id, email=email))
        objects.extend(refunds)
    return objects


# --- Transaction Search ------------------------------------------------------------------
def is_refund_row(info: Mapping[str, Any]) -> bool:
    return str(info.get("transaction_event_code") or "").startswith("T11")


def is_authorization_row(info: Mapping[str, Any]) -> bool:
    return str(info.get("transaction_event_code") or "").startswith("T13")


def is_payment_row(info: Mapping[str, Any]) -> bool:
    return str(info.get("transaction_event_code") or "").startswith("T00")


_ROW_STATUS = {"S": "COMPLETED", "P": "PENDING", "V": "REFUNDED", "D": "DECLINED", "F": "FAILED"}


def search_rows(
    details: Iterable[Mapping[str, Any]], fetched: datetime
) -> tuple[list[gw.GatewayObject], dict[str, int], dict[str, str]]:
    """A Transaction Search page as mirror objects: payers, payments (captures), refunds
    and authorisations. Returns the objects, the refunded minor units per capture id seen
    in the page's refund rows, and the subscriptions its payments name (id → payer id)."""
    objects: list[gw.GatewayObject] = []
    refunded: dict[str, int] = {}
    subscriptions: dict[str, str] = {}
    customers: dict[str, gw.GwCustomer] = {}
    rows = list(details)
    for row in rows:
        info = row.get("transaction_info") or {}
        if is_refund_row(info) and info.get("paypal_reference_id"):
            value, _ = minor(info.get("transaction_amount"))
            ref = str(info["paypal_reference_id"])
            refunded[ref] = refunded.get(ref, 0) + abs(value)
    for row in rows:
        info = row.get("transaction_info") or {}
        if not info.get("transaction_id"):
            continue
        version = (
            when(info.get("transaction_updated_date"))
            or when(info.get("transaction_initiation_date"))
            or fetched
        )
        customer = payer_info(row.get("payer_info"), version)
        if customer is not None:
            known = customers.get(customer.id)
            if known is None or known.updated < customer.updated:
                customers[customer.id] = customer
        customer_id = customer.id if customer else None
        email = customer.email if customer else ""
        amount: JSON = dict(info.get("transaction_amount") or {})
        as_object: JSON = {
            "id": info["transaction_id"],
            "amount": {**amount, "value": str(amount.get("value") or "0").lstrip("-")},
            "create_time": info.get("transaction_initiation_date"),
            "update_time": info.get("transaction_updated_date"),
            "invoice_id": info.get("invoice_id") or "",
        }
        if is_refund_row(info):
            if info.get("paypal_reference_id"):
                as_object["status"] = (
                    "COMPLETED" if info.get("transaction_status") == "S" else "PENDING"
                )
                objects.append(refund(as_object, fetched, str(info["paypal_reference_id"])))
        elif is_authorization_row(info):
            as_object["status"] = "VOIDED" if info.get("transaction_status") == "V" else "CREATED"
            objects.append(authorization(as_object, fetched, customer_id=customer_id, email=email))
        elif is_payment_row(info):
            as_object["status"] = _ROW_STATUS.get(str(info.get("transaction_status")), "PENDING")
            if info.get("paypal_reference_id_type") == "SUB":
                subscriptions[str(info["paypal_reference_id"])] = customer_id or ""
            if info.get("paypal_reference_id_type") == "TXN" and info.get("paypal_reference_id"):
                as_object["supplementary_data"] = {
                    "related_ids": {"authorization_id": info["paypal_reference_id"]}
                }
            objects.append(
                capture(
                    as_object,
                    fetched,
                    customer_id=customer_id,
                    email=email,
                    refunded=refunded.get(str(info["transaction_id"]), 0),
                    description=str(info.get("transaction_subject") or ""),
                )
            )
    return [*customers.values(), *objects], refunded, subscriptions


# --- subscriptions -------------------------------------------------------------------------
def subscription(
    sub: Mapping[str, Any], fetched: datetime, plan: Mapping[str, Any] | None
) -> list[gw.GatewayObject]:
    """A subscription (with its plan's price and cycle) and its subscriber."""
    version = when(sub.get("status_update_time")) or _version(sub, fetched)
    version = max(version, _version(sub, fetched))
    customer = payer(sub.get("subscriber"), version)
    cycle: Mapping[str, Any] = {}
    for item in (plan or {}).get("billing_cycles") or []:
        if item.get("tenure_type") == "REGULAR":
            cycle = item
    amount, currency = minor((cycle.get("pricing_scheme") or {}).get("fixed_price"))
    frequency = cycle.get("frequency") or {}
    status_text = str(sub.get("status") or "")
    status = _SUBSCRIPTION_STATUS.get(status_text, gw.SubscriptionStatus.ACTIVE)
    ended = (
        when(sub.get("status_update_time")) if status is gw.SubscriptionStatus.CANCELED else None
    )
    billing = sub.get("billing_info") or {}
    quantity = str(sub.get("quantity") or "1")
    objects: list[gw.GatewayObject] = [customer] if customer else []
    objects.append(
        gw.GwSubscription(
            id=str(sub["id"]),
            updated=version,
            created=when(sub.get("create_time")),
            raw=dict(sub),
            customer_id=customer.id if customer else None,
            status=status,
            product=str((plan or {}).get("name") or sub.get("plan_id") or ""),
            plan=str(sub.get("plan_id") or ""),
            amount=amount,
            currency=currency,
            interval=_INTERVAL.get(str(frequency.get("interval_unit") or ""), gw.Interval.MONTH),
            interval_count=int(frequency.get("interval_count") or 1),
            quantity=int(quantity) if quantity.isdigit() else 1,
            current_period_start=when((billing.get("last_payment") or {}).get("time"))
            or when(sub.get("start_time")),
            current_period_end=when(billing.get("next_billing_time")),
            canceled_at=ended,
            ended_at=ended,
        )
    )
    return objects


# --- disputes ------------------------------------------------------------------------------
def dispute(obj: Mapping[str, Any], fetched: datetime) -> gw.GwDispute:
    amount, currency = minor(obj.get("dispute_amount"))
    status = _DISPUTE_STATUS.get(str(obj.get("status") or ""), gw.DisputeStatus.NEEDS_RESPONSE)
    outcome = str((obj.get("dispute_outcome") or {}).get("outcome_code") or "")
    if obj.get("status") == "RESOLVED":
        status = _DISPUTE_OUTCOME.get(outcome, gw.DisputeStatus.LOST)
    if (
        obj.get("dispute_life_cycle_stage") == "INQUIRY"
        and status is gw.DisputeStatus.NEEDS_RESPONSE
    ):
        status = gw.DisputeStatus.WARNING
    transactions = obj.get("disputed_transactions") or [{}]
    return gw.GwDispute(
        id=str(obj.get("dispute_id") or obj.get("id")),
        updated=_version(obj, fetched),
        created=when(obj.get("create_time")),
        raw=dict(obj),
        charge_id=str(transactions[0].get("seller_transaction_id") or ""),
        amount=amount,
        currency=currency,
        status=status,
        reason=str(obj.get("reason") or "").lower(),
        evidence_due_by=when(obj.get("seller_response_due_date")),
    )


# --- invoices (Invoicing v2) -----------------------------------------------------------------
_INVOICE_STATUS = {
    "DRAFT": gw.InvoiceStatus.DRAFT,
    "SCHEDULED": gw.InvoiceStatus.OPEN,
    "SENT": gw.InvoiceStatus.OPEN,
    "UNPAID": gw.InvoiceStatus.OPEN,
    "PAYMENT_PENDING": gw.InvoiceStatus.OPEN,
    "PARTIALLY_PAID": gw.InvoiceStatus.OPEN,
    "PAID": gw.InvoiceStatus.PAID,
    "MARKED_AS_PAID": gw.InvoiceStatus.PAID,
    "PARTIALLY_REFUNDED": gw.InvoiceStatus.PAID,
    "REFUNDED": gw.InvoiceStatus.PAID,
    "MARKED_AS_REFUNDED": gw.InvoiceStatus.PAID,
    "CANCELLED": gw.InvoiceStatus.VOID,
}
PAID_INVOICE = frozenset(
    {"PAID", "MARKED_AS_PAID", "PARTIALLY_REFUNDED", "REFUNDED", "MARKED_AS_REFUNDED"}
)


def recipient_id(email: str) -> str:
    """The customer an invoice's recipient is: the Invoicing API names a recipient by email
    only (no payer id), so the email, lower-cased, is its id in the mirror; person matching
    joins it to the payer with the same email."""
    return email.strip().lower()


def _date(value: Any) -> datetime | None:
    """Invoicing's dates (``2026-01-05``) as midnight UTC."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def invoice(inv: Mapping[str, Any], fetched: datetime) -> list[gw.GatewayObject]:
    """An invoice, and its first recipient as a customer (by email) when it has one."""
    detail = inv.get("detail") or {}
    meta = detail.get("metadata") or {}
    version = when(meta.get("last_update_time")) or when(meta.get("create_time")) or fetched
    status_text = str(inv.get("status") or "")
    status = _INVOICE_STATUS.get(status_text, gw.InvoiceStatus.OPEN)
    amount = inv.get("amount") or {}
    total, currency = minor(amount)
    currency = currency or str(detail.get("currency_code") or "").upper()
    breakdown = amount.get("breakdown") or {}
    subtotal, _ = minor(breakdown.get("item_total")) if breakdown.get("item_total") else (total, "")
    tax, _ = minor(breakdown.get("tax_total"))
    due, _ = minor(inv.get("due_amount"))
    payments = inv.get("payments") or {}
    paid, _ = minor(payments.get("paid_amount"))
    if status_text in PAID_INVOICE and not paid:
        paid = total
    paying = next(
        (
            t
            for t in payments.get("transactions") or []
            if isinstance(t, Mapping) and t.get("payment_id") and t.get("type") != "EXTERNAL"
        ),
        None,
    )
    recipients = [r for r in inv.get("primary_recipients") or [] if isinstance(r, Mapping)]
    billing = (recipients[0].get("billing_info") or {}) if recipients else {}
    email = str(billing.get("email_address") or "")
    objects: list[gw.GatewayObject] = []
    customer_id: str | None = None
    if email:
        name = billing.get("name") or {}
        full = " ".join(p for p in (name.get("given_name"), name.get("surname")) if p)
        customer_id = recipient_id(email)
        objects.append(
            gw.GwCustomer(
                id=customer_id,
                updated=version,
                raw=dict(billing),
                email=email,
                name=full or str(name.get("full_name") or billing.get("business_name") or ""),
            )
        )
    objects.append(
        gw.GwInvoice(
            id=str(inv["id"]),
            updated=version,
            created=when(meta.get("create_time")),
            raw=dict(inv),
            customer_id=customer_id,
            status=status,
            currency=currency,
            number=str(detail.get("invoice_number") or ""),
            subtotal=subtotal,
            tax=tax,
            total=total,
            amount_due=due if status is gw.InvoiceStatus.OPEN else 0,
            amount_paid=paid,
            due_date=_date((detail.get("payment_term") or {}).get("due_date")),
            hosted_url=str(meta.get("recipient_view_url") or ""),
            charge_id=str(paying["payment_id"]) if paying else None,
        )
    )
    return objects
