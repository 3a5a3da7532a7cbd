"""Read endpoints (scope ``read``): persons, the mirror, documents and the audit log.

Lists are newest first with an opaque ``cursor`` (``next_cursor`` of the page before; null on
the last page) and ``limit`` (1 to 200). Each view parses, calls one selector, renders.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, set_response_etag
from ninja import Field as F
from ninja import Query, Router, Schema

from billingdesk.actions.models import AuditEntry
from billingdesk.api.v1 import schemas as s
from billingdesk.api.v1.auth import READ
from billingdesk.api.v1.errors import ERRORS
from billingdesk.billing.models import Charge, Invoice, Refund, Subscription
from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.documents.models import Document
from billingdesk.documents.views import pdf_response
from billingdesk.panel.selectors import panel_data, person_search
from billingdesk.reports.export import audit_csv
from billingdesk.reports.selectors.agents import audit_entries

router = Router(auth=READ, tags=["read"])
# Before any entry: the audit log's "all time" when no period is asked for.
AUDIT_EPOCH = date(2000, 1, 1)


def _ok(schema: Any) -> dict[int, Any]:
    return {200: schema, **ERRORS}


class Filters(s.PageParams):
    account: uuid.UUID | None = None
    person: s.Id | None = None
    customer: s.Id | None = None
    status: str | None = F(None, max_length=40)


def _filtered(rows: QuerySet[Any], f: Filters, *, person_field: str) -> QuerySet[Any]:
    if f.account is not None:
        rows = rows.filter(account_id=f.account)
    if f.person is not None:
        rows = rows.filter(**{person_field: f.person})
    if f.customer is not None and person_field.startswith("customer"):
        rows = rows.filter(customer_id=f.customer)
    if f.status:
        rows = rows.filter(status=f.status)
    return rows.defer("raw")


def _page(rows: QuerySet[Any], f: s.PageParams, render: Any) -> dict[str, Any]:
    found, cursor = s.page_of(rows, f)
    return {"items": [render(row) for row in found], "next_cursor": cursor}


def _page_schema(name: str, item: type[Schema]) -> type[Schema]:
    fields = {"items": list[item], "next_cursor": str | None}  # type: ignore[valid-type]
    return type(name, (Schema,), {"__annotations__": fields})


ChargePage = _page_schema("ChargePage", s.ChargeOut)
RefundPage = _page_schema("RefundPage", s.RefundOut)
SubscriptionPage = _page_schema("SubscriptionPage", s.SubscriptionOut)
InvoicePage = _page_schema("InvoicePage", s.InvoiceOut)
DocumentPage = _page_schema("DocumentPage", s.DocumentOut)
AuditPage = _page_schema("AuditPage", s.AuditOut)


class PersonSearch(Schema):
    q: str = F(..., min_length=1, max_length=300, description="email, name, phone, last 4, id")
    limit: int = F(20, ge=1, le=100)
    page: int = F(1, ge=1, le=1000)
    account: uuid.UUID | None = None


class PersonSearchOut(Schema):
    items: list[s.PersonHitOut]
    total: int
    more: bool
    page: int
    pages: int


@router.get("/persons", response=_ok(PersonSearchOut), summary="Search persons")
def persons_search(request: HttpRequest, params: Query[PersonSearch]) -> dict[str, Any]:
    found = person_search(
        params.q, params.limit, page=params.page,
        account_id=str(params.account) if params.account else None,
    )  # fmt: skip
    return {
        "items": [
            {
                "id": hit.person.pk,
                "name": hit.person.name,
                "primary_email": hit.person.primary_email,
                "matched_by": hit.matched_by,
                "confidence": hit.confidence,
            }
            for hit in found.hits
        ],
        "total": found.total,
        "more": found.more,
        "page": found.page,
        "pages": found.pages,
    }


@router.get("/persons/{person_id}", response=_ok(s.PersonDetailOut), summary="One person")
def person_detail(request: HttpRequest, person_id: s.Id) -> dict[str, Any]:
    data = panel_data(person_id, documents=True)
    return {
        "id": data.person.pk,
        "name": data.person.name,
        "primary_email": data.person.primary_email,
        "customers": [s.customer_out(c) for c in data.customers],
        "charges": [s.charge_out(c) for c in data.charges.rows],
        "subscriptions": [s.subscription_out(x) for x in data.subscriptions.rows],
        "invoices": [s.invoice_out(i) for i in data.invoices.rows],
        "documents": [s.document_out(d) for d in data.documents],
    }


@router.get("/charges", response=_ok(ChargePage), summary="Charges")
def charges_list(request: HttpRequest, f: Query[Filters]) -> dict[str, Any]:
    rows = _filtered(Charge.objects.all(), f, person_field="customer__person_id")
    return _page(rows, f, s.charge_out)


@router.get("/charges/{charge_id}", response=_ok(s.ChargeOut), summary="One charge")
def charge_detail(request: HttpRequest, charge_id: s.Id) -> dict[str, Any]:
    return s.charge_out(_get(Charge, charge_id))


@router.get("/refunds", response=_ok(RefundPage), summary="Refunds")
def refunds_list(request: HttpRequest, f: Query[Filters]) -> dict[str, Any]:
    rows = _filtered(Refund.objects.all(), f, person_field="charge__customer__person_id")
    return _page(rows, f, s.refund_out)


@router.get("/subscriptions", response=_ok(SubscriptionPage), summary="Subscriptions")
def subscriptions_list(request: HttpRequest, f: Query[Filters]) -> dict[str, Any]:
    rows = _filtered(Subscription.objects.all(), f, person_field="customer__person_id")
    return _page(rows, f, s.subscription_out)


@router.get("/invoices", response=_ok(InvoicePage), summary="Gateway invoices")
def invoices_list(request: HttpRequest, f: Query[Filters]) -> dict[str, Any]:
    rows = _filtered(Invoice.objects.all(), f, person_field="customer__person_id")
    return _page(rows, f, s.invoice_out)


class DocumentFilters(s.PageParams):
    person: s.Id | None = None
    kind: str | None = F(None, max_length=20)


@router.get("/documents", response=_ok(DocumentPage), summary="Invoices, receipts, credit notes")
def documents_list(request: HttpRequest, f: Query[DocumentFilters]) -> dict[str, Any]:
    rows = Document.objects.defer("pdf")
    if f.person is not None:
        rows = rows.filter(person_id=f.person)
    if f.kind:
        rows = rows.filter(kind=f.kind)
    return _page(rows, f, s.document_out)


@router.get(
    "/documents/{document_id}/pdf",
    response={200: None, **ERRORS},
    summary="A document's PDF",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def document_pdf(request: HttpRequest, document_id: s.Id) -> HttpResponse:
    response = pdf_response(_get(Document, document_id))
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


class AuditFilters(s.PageParams):
    start: date | None = F(None, description="first day (the reporting time zone), included")
    end: date | None = F(None, description="last day, included")
    account: uuid.UUID | None = None
    person: s.Id | None = None
    action: str | None = F(None, max_length=60)
    result: str | None = F(None, max_length=30)
    target_id: str | None = F(None, max_length=255)
    actor: str | None = F(None, max_length=150, description="part of the actor's name")


def _audit_rows(f: AuditFilters) -> QuerySet[AuditEntry]:
    """The reports app's audit selector, over all time unless a period is given."""
    end = f.end or timezone.localdate() + timedelta(days=1)
    start = f.start or AUDIT_EPOCH
    if start > end:
        raise InvalidRequest("The period starts after it ends.")
    return audit_entries(
        start=start, end=end, actor=f.actor or "", action=f.action or "",
        result=f.result or "", target=f.target_id or "", person=f.person,
        account=f.account,
    )  # fmt: skip


@router.get("/audit", response=_ok(AuditPage), summary="The audit log")
def audit_list(request: HttpRequest, f: Query[AuditFilters]) -> dict[str, Any]:
    found, cursor = s.page_of(_audit_rows(f), f, key="seq")
    return {"items": [_audit_out(e) for e in found], "next_cursor": cursor}


@router.get(
    "/audit/export",
    response={200: None, **ERRORS},
    summary="The audit log as CSV",
    description="Every entry matching the filters (``cursor`` and ``limit`` are ignored), "
    "newest first, the columns of the reports' audit export; text cells that a spreadsheet "
    "would run as a formula are prefixed with an apostrophe.",
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}},
)
def audit_export(request: HttpRequest, f: Query[AuditFilters]) -> StreamingHttpResponse:
    return audit_csv(_audit_rows(f))


def _audit_out(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq, "at": e.at, "actor": e.actor_name, "approver": e.approver_name,
        "action": e.action, "result": e.result,
        "account": str(e.account_id) if e.account_id else None, "person": e.person_id,
        "target_kind": e.target_kind, "target_id": e.target_id, "amount": e.amount,
        "currency": e.currency, "reason_code": e.reason_code, "reason_text": e.reason_text,
        "detail": e.detail, "request": e.request_id,
    }  # fmt: skip


def _get(model: Any, pk: int) -> Any:
    row = model._default_manager.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return row
