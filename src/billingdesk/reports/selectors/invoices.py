"""Invoice status across gateways, from the mirror's gateway invoices: per status and
currency (counts and amounts due), open invoices past due by age, and the invoices of one
status with their person and the billingdesk document of their payment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from billingdesk.billing.models import Charge, Invoice
from billingdesk.documents.models import Document
from billingdesk.gateways.interface import InvoiceStatus

AGE_BUCKETS = ((1, 30), (31, 60), (61, 90), (91, None))  # days past due
STATUSES = ("paid", "open", "overdue", "void", "uncollectible")


@dataclass
class StatusLine:
    status: str
    currency: str
    invoices: int
    total: int
    amount_due: int


@dataclass
class AgeLine:
    currency: str
    first_day: int
    last_day: int | None
    invoices: int
    amount_due: int


def invoice_status_summary(
    *, now: datetime | None = None
) -> tuple[list[StatusLine], list[AgeLine]]:
    now = now or timezone.now()
    live = Invoice.objects.filter(deleted=False).exclude(status=InvoiceStatus.DRAFT)
    lines = [
        StatusLine(g["status"], g["currency"], g["n"], g["total"] or 0, g["due"] or 0)
        for g in live.values("status", "currency")
        .annotate(n=Count("id"), total=Sum("total"), due=Sum("amount_due"))
        .order_by("status", "currency")
    ]
    ages: list[AgeLine] = []
    for first, last in AGE_BUCKETS:
        window = Q(due_date__lte=now - timedelta(days=first))
        if last is not None:
            window &= Q(due_date__gt=now - timedelta(days=last + 1))
        overdue = live.filter(window, status=InvoiceStatus.OPEN)
        for g in (
            overdue.values("currency").annotate(n=Count("id"), due=Sum("amount_due")).order_by()
        ):
            ages.append(AgeLine(g["currency"], first, last, g["n"], g["due"] or 0))
    ages.sort(key=lambda a: (a.currency, a.first_day))
    return lines, ages


def invoices_of_status(
    *, status: str, now: datetime | None = None, limit: int = 200
) -> QuerySet[Invoice]:
    """The newest invoices of ``status`` (``overdue``: open and past their due date)."""
    now = now or timezone.now()
    qs = Invoice.objects.filter(deleted=False)
    if status == "overdue":
        qs = qs.filter(status=InvoiceStatus.OPEN, due_date__lt=now)
    else:
        qs = qs.filter(status=status)
    # The documents of the invoice's payments, without their PDFs.
    documents = Prefetch(
        "documents", queryset=Document.objects.only("id", "number", "kind", "charge_id")
    )
    charges = Prefetch(
        "charges", queryset=Charge.objects.only("id", "invoice_id").prefetch_related(documents)
    )
    return (
        qs.select_related("customer", "account")
        .prefetch_related(charges)
        .order_by("-gateway_created_at", "-id")[:limit]
    )
