"""The tax rollup (``TaxDay``, ``DocumentDay``): the issued documents summed per local day.

An issued document never changes, so ``tax_days_add`` adds each one exactly once, from the
``post_save`` of its creation, inside the transaction that issues it (a rolled-back issue
adds nothing). ``tax_days_rebuild`` recomputes everything from the documents: after
installing the reports on existing documents, or after changing ``BILLINGDESK_TIME_ZONE``.
Both go through ``_contributions``, so they cannot disagree on what a document adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from billingdesk.documents.models import Document, DocumentKind
from billingdesk.reports.models import DocumentDay, TaxDay
from billingdesk.reports.rollups import local_day

Contribution = tuple[type[TaxDay] | type[DocumentDay], dict[str, Any], dict[str, int]]

_FIELDS = ("issued_at", "legal_entity_id", "kind", "tax_country", "treatment", "currency",
           "tax_lines", "net", "tax", "gross")  # fmt: skip


def _contributions(doc: Document, day: date | None = None) -> Iterator[Contribution]:
    """What one document adds: to its day's totals, and to each of its tax lines' row."""
    sign = -1 if doc.kind == DocumentKind.CREDIT_NOTE else 1
    day = day or local_day(doc.issued_at)
    counts = {"documents": int(sign > 0), "credit_notes": int(sign < 0)}
    yield (
        DocumentDay,
        {"day": day, "legal_entity_id": doc.legal_entity_id, "currency": doc.currency},
        {"net": sign * doc.net, "tax": sign * doc.tax, "gross": sign * doc.gross, **counts},
    )
    for item in doc.tax_lines or []:
        key = {
            "day": day,
            "legal_entity_id": doc.legal_entity_id,
            "tax_country": doc.tax_country,
            "treatment": doc.treatment,
            "currency": doc.currency,
            "name": str(item.get("name", "")),
            "percent": str(item.get("percent", "")),
        }
        values = {
            "taxable": sign * int(item.get("taxable", 0)),
            "tax": sign * int(item.get("amount", 0)),
            **counts,
        }
        yield TaxDay, key, values


def tax_days_add(doc: Document) -> None:
    """Add one newly issued document to the rollup (in the caller's transaction)."""
    for model, key, values in _contributions(doc):
        increments = {name: F(name) + value for name, value in values.items()}
        if model.objects.filter(**key).update(**increments):
            continue
        try:
            with transaction.atomic():  # a savepoint: another issue may create the row first
                model.objects.create(**key, **values)
        except IntegrityError:
            model.objects.filter(**key).update(**increments)


def _summed(docs: Iterable[Document]) -> tuple[list[TaxDay], list[DocumentDay]]:
    rows: dict[tuple[Any, ...], TaxDay | DocumentDay] = {}
    for doc in docs:
        for model, key, values in _contributions(doc):
            ident = (model.__name__, *key.values())
            row = rows.get(ident)
            if row is None:
                rows[ident] = model(**key, **values)
            else:
                for name, value in values.items():
                    setattr(row, name, getattr(row, name) + value)
    taxes = [r for r in rows.values() if isinstance(r, TaxDay)]
    totals = [r for r in rows.values() if isinstance(r, DocumentDay)]
    return taxes, totals


@transaction.atomic
def tax_days_rebuild() -> int:
    """Recompute the whole tax rollup from the documents; the number of rows written."""
    TaxDay.objects.all().delete()
    DocumentDay.objects.all().delete()
    docs = Document.objects.only(*_FIELDS).order_by().iterator(chunk_size=5000)
    taxes, totals = _summed(docs)
    TaxDay.objects.bulk_create(taxes, batch_size=2000)
    DocumentDay.objects.bulk_create(totals, batch_size=2000)
    return len(taxes) + len(totals)
