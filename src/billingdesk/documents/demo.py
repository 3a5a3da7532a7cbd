"""A ready-to-use issuer for the demo: one French legal entity, its series and a default brand.

Called by ``billingdesk documents_demo_setup`` (and meant for ``make demo`` before seeding), so
that sandbox payments immediately get invoices, receipts and credit notes.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from billingdesk.documents.models import Brand, DocumentKind, DocumentSeries, LegalEntity

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
