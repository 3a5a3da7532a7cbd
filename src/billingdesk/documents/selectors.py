"""Reads of issued documents for the panel, the API and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from billingdesk.documents.models import Document


def documents_for_person(*, person_id: int) -> QuerySet[Document]:
    """A person's documents, newest first, without the PDF bytes."""
    return (
        Document.objects.filter(person_id=person_id)
        .defer("pdf", "seller", "lines", "tax_lines")
        .select_related("original")
        .order_by("-issued_at", "-id")
    )


def document_summary(document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "issued_at": document.issued_at.isoformat(),
        "currency": document.currency,
        "net": document.net,
        "tax": document.tax,
        "gross": document.gross,
        "treatment": document.treatment,
        "language": document.language,
        "original": document.original.number if document.original else None,
        "charge_id": document.charge_id,
        "refund_id": document.refund_id,
        "emailed_at": document.emailed_at.isoformat() if document.emailed_at else None,
        "message_id": document.message_id,
        "has_facturx": document.has_facturx,
        "pdf_url": reverse("documents:pdf", kwargs={"document_id": document.pk}),
    }
