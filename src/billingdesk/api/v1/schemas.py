"""What the API returns: money as integer minor units beside its ISO 4217 code, times in ISO
8601 UTC, mirrored records with both our id and the gateway's."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from django.db.models import Model, QuerySet
from ninja import Field, Query, Schema

from billingdesk.core.errors import InvalidRequest
from billingdesk.core.parsing import MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=40, description="next_cursor of the last page")
    limit: int = Field(50, ge=1, le=200)


class Mirrored(Schema):
    id: int
    account: str
    gateway_id: str
    created: datetime | None
    updated: datetime
    deleted: bool


class CustomerOut(Mirrored):
    person: int | None
    email: str
    name: str
    phone: str
    country: str
    currency: str


class ChargeOut(Mirrored):
    customer: int | None
    customer_ref: str
    amount: int
    amount_captured: int
    amount_refunded: int
    currency: str
    status: str
    description: str
    order_id: str
    card_brand: str
    card_last4: str


class RefundOut(Mirrored):
    charge: int | None
    charge_ref: str
    amount: int
    currency: str
    status: str
    reason: str


class SubscriptionOut(Mirrored):
    customer: int | None
    customer_ref: str
    status: str
    product: str
    plan: str
    amount: int
    currency: str
    interval: str
    interval_count: int
    quantity: int
    current_period_end: datetime | None
    cancel_at_period_end: bool


class InvoiceOut(Mirrored):
    customer: int | None
    customer_ref: str
    status: str
    number: str
    currency: str
    total: int
    amount_due: int
    amount_paid: int
    due_date: datetime | None


class DocumentOut(Schema):
    id: int
    kind: str
    number: str
    issued_at: datetime
    person: int | None
    currency: str
    net: int
    tax: int
    gross: int
    pdf_url: str


class PersonOut(Schema):
    id: int
    name: str
    primary_email: str


class PersonHitOut(PersonOut):
    matched_by: str
    confidence: int


class PersonDetailOut(PersonOut):
    customers: list[CustomerOut]
    charges: list[ChargeOut]
    subscriptions: list[SubscriptionOut]
    invoices: list[InvoiceOut]
    documents: list[DocumentOut]


class AuditOut(Schema):
    seq: int
    at: datetime
    actor: str
    approver: str
    action: str
    result: str
    account: str | None
    person: int | None
    target_kind: str
    target_id: str
    amount: int | None
    currency: str
    reason_code: str
    reason_text: str
    detail: str
    request: int | None


def page_of(
    rows: QuerySet[Any], params: PageParams, *, key: str = "id"
) -> tuple[list[Any], str | None]:
    """One page, newest first by ``key`` (a unique integer), and the cursor of the next."""
    if params.cursor:
        after = _cursor_value(params.cursor)
        rows = rows.filter(**{f"{key}__lt": after})
    found = list(rows.order_by(f"-{key}")[: params.limit + 1])
    more = len(found) > params.limit
    found = found[: params.limit]
    last = getattr(found[-1], key) if found and more else None
    return found, _cursor(last) if last is not None else None


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{value}".encode()).decode().rstrip("=")


def _cursor_value(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        version, _, number = raw.partition(":")
        value = int(number) if version == "v1" and number.isascii() and number.isdigit() else 0
    except (ValueError, UnicodeDecodeError):
        value = 0
    if not 0 < value <= MAX_ID:
        raise InvalidRequest("This cursor is not one this API gave out.")
    return value


def mirrored(row: Model, **extra: Any) -> dict[str, Any]:
    """The columns every mirrored record shares, plus the model's own ``extra``."""
    return {
        "id": row.pk,
        "account": str(row.account_id),  # type: ignore[attr-defined]
        "gateway_id": row.gateway_id,  # type: ignore[attr-defined]
        "created": row.gateway_created_at,  # type: ignore[attr-defined]
        "updated": row.gateway_updated_at,  # type: ignore[attr-defined]
        "deleted": row.deleted,  # type: ignore[attr-defined]
        **extra,
    }


def customer_out(c: Any) -> dict[str, Any]:
    return mirrored(c, person=c.person_id, email=c.email, name=c.name, phone=c.phone,
                    country=c.country, currency=c.currency)  # fmt: skip


def charge_out(c: Any) -> dict[str, Any]:
    return mirrored(
        c, customer=c.customer_id, customer_ref=c.customer_ref, amount=c.amount,
        amount_captured=c.amount_captured, amount_refunded=c.amount_refunded,
        currency=c.currency, status=c.status, description=c.description, order_id=c.order_id,
        card_brand=c.card_brand, card_last4=c.card_last4,
    )  # fmt: skip


def refund_out(r: Any) -> dict[str, Any]:
    return mirrored(r, charge=r.charge_id, charge_ref=r.charge_ref, amount=r.amount,
                    currency=r.currency, status=r.status, reason=r.reason)  # fmt: skip


def subscription_out(s: Any) -> dict[str, Any]:
    return mirrored(
        s, customer=s.customer_id, customer_ref=s.customer_ref, status=s.status,
        product=s.product, plan=s.plan, amount=s.amount, currency=s.currency,
        interval=s.interval, interval_count=s.interval_count, quantity=s.quantity,
        current_period_end=s.current_period_end, cancel_at_period_end=s.cancel_at_period_end,
    )  # fmt: skip


def invoice_out(i: Any) -> dict[str, Any]:
    return mirrored(
        i, customer=i.customer_id, customer_ref=i.customer_ref, status=i.status,
        number=i.number, currency=i.currency, total=i.total, amount_due=i.amount_due,
        amount_paid=i.amount_paid, due_date=i.due_date,
    )  # fmt: skip


def document_out(d: Any) -> dict[str, Any]:
    return {
        "id": d.pk, "kind": d.kind, "number": d.number, "issued_at": d.issued_at,
        "person": d.person_id, "currency": d.currency, "net": d.net, "tax": d.tax,
        "gross": d.gross, "pdf_url": f"/api/v1/documents/{d.pk}/pdf",
    }  # fmt: skip


__all__ = ["Query"]
