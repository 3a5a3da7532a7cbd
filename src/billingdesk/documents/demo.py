"""A ready-to-use issuer for the demo: one French legal entity, its series and a default brand.

Called by ``billingdesk documents_demo_setup`` (and meant for ``make demo`` before seeding), so
that sandbox payments immediately get invoices, receipts and credit notes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from billingdesk.core.errors import UserFacingError
from billingdesk.documents.models import Brand, DocumentKind, DocumentSeries, LegalEntity

logger = logging.getLogger(__name__)

DEMO_BRAND = "billingdesk demo"
# The legal facts of a French company (a real, public SIREN/VAT pair, valid checksums): the
# one copy the demo issuer, the document tests and the invoice benchmark all use.
FRENCH_ENTITY: dict[str, Any] = {
    "legal_form": "SAS",
    "share_capital": "10 000 €",
    "address_line1": "1 rue de la Paix",
    "postcode": "75002",
    "city": "Paris",
    "country": "FR",
    "vat_number": "FR40303265045",
    "company_ids": {"SIREN": "303265045", "RCS": "Paris B 303 265 045"},
}


def demo_issuer_create() -> Brand:
    """Create the demo issuer if it does not exist yet; return its brand. Loads the sample ECB
    rates when none are stored, so that demo payments in other currencies are documented."""
    from billingdesk.documents.exchange import SAMPLE_FILE, rates_load
    from billingdesk.documents.models import ExchangeRate

    with transaction.atomic():
        if not ExchangeRate.objects.exists():
            rates_load(SAMPLE_FILE.read_text())
        existing = Brand.objects.filter(name=DEMO_BRAND).first()
        if existing is not None:
            return existing
        entity = LegalEntity.objects.create(
            name="Demo Billing SAS", email="billing@demo.example", **FRENCH_ENTITY
        )
        for kind, prefix in (
            (DocumentKind.INVOICE, "F"),
            (DocumentKind.RECEIPT, "R"),
            (DocumentKind.CREDIT_NOTE, "AV"),
        ):
            DocumentSeries.objects.create(legal_entity=entity, kind=kind, prefix=prefix)
        return Brand.objects.create(
            name=DEMO_BRAND,
            legal_entity=entity,
            is_default=not Brand.objects.filter(is_default=True).exists(),
            footer="Demo Billing SAS — 1 rue de la Paix, 75002 Paris — billing@demo.example",
            from_email="billing@demo.example",
            reply_to="support@demo.example",
            b2c_document=Brand.B2CKind.RECEIPT,
        )


# How much of the seeded history gets its documents: the latest paid charges, enough for
# every kind (receipts, B2B invoices with Factur-X, credit notes) without a long seeding.
DEMO_HISTORY_CHARGES = 300


def demo_history_documents(*, charges: int = DEMO_HISTORY_CHARGES) -> int:
    """Issue the documents of the seeded history, which predates the accounts'
    ``documents_from`` and so got none: for the latest ``charges`` paid charges, oldest
    first (numbers follow the supply dates), their invoice or receipt (an invoice with
    Factur-X for a customer with a VAT id), then a credit note for each of their
    refunds. Nothing is emailed (the customers are made up; the history is long past).
    Documents already issued are kept. Returns how many documents there are for them."""
    from billingdesk.billing.models import Charge, Refund
    from billingdesk.documents.models import Document
    from billingdesk.documents.services import (
        credit_note_issue_for_refund,
        document_issue_for_charge,
    )
    from billingdesk.documents.services.issue import PAID_STATUSES

    latest = list(
        Charge.objects.filter(status__in=PAID_STATUSES, deleted=False)
        .order_by("-gateway_created_at", "-id")
        .values_list("pk", flat=True)[:charges]
    )
    ids = list(
        Charge.objects.filter(pk__in=latest)
        .order_by("gateway_created_at", "id")
        .values_list("pk", flat=True)
    )
    for charge_id in ids:
        try:
            document_issue_for_charge(charge_id=charge_id, send=False)
        except UserFacingError as exc:
            # A payment the sample ECB rates do not cover (a foreign currency, long ago).
            logger.info("no demo document for charge %s: %s", charge_id, exc.message)
    for refund_id in (
        Refund.objects.filter(charge_id__in=ids, status="succeeded")
        .order_by("gateway_created_at", "id")
        .values_list("pk", flat=True)
    ):
        try:
            credit_note_issue_for_refund(refund_id=refund_id, send=False)
        except UserFacingError as exc:
            logger.info("no demo credit note for refund %s: %s", refund_id, exc.message)
    return Document.objects.filter(charge_id__in=ids).count()
