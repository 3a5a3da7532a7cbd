"""Issuing one document (numbered, rendered and stored in the caller's transaction), and the
invoice or receipt of a paid charge.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from billingdesk.billing.models import Charge, Customer, Refund
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.exchange import vat_in_national_currency
from billingdesk.documents.models import Brand, Document, DocumentKind
from billingdesk.documents.numbering import number_take, series_for
from billingdesk.documents.render.facturx import facturx_applies
from billingdesk.documents.render.layout import document_pdf
from billingdesk.documents.services.parties import (
    brand_for_account,
    buyer_snapshot,
    seller_snapshot,
)
from billingdesk.documents.services.taxing import _tax, tax_fields
from billingdesk.documents.tax import LineIn, TaxResult
from billingdesk.gateways.interface import ChargeStatus

logger = logging.getLogger(__name__)

# A charge in any of these states was paid at some point, so it gets a document.
PAID_STATUSES = frozenset(
    {
        ChargeStatus.CAPTURED,
        ChargeStatus.PARTIALLY_REFUNDED,
        ChargeStatus.REFUNDED,
        ChargeStatus.DISPUTED,
    }
)
SALE_KINDS = (DocumentKind.INVOICE, DocumentKind.RECEIPT)


def _issue(
    *,
    kind: str,
    source_key: str,
    brand: Brand,
    seller: dict[str, Any],
    buyer: dict[str, Any],
    language: str,
    result: TaxResult,
    currency: str,
    supply_date: date,
    customer: Customer | None,
    charge: Charge | None = None,
    refund: Refund | None = None,
    original: Document | None = None,
    reason: str = "",
    send: bool = True,
) -> Document:
    """Number, render and store one document; the caller holds the transaction."""
    series = series_for(legal_entity_id=brand.legal_entity_id, kind=kind)
    number, issued_at = number_take(series=series)
    document = Document(
        kind=kind,
        series=series,
        number=number,
        issued_at=issued_at,
        supply_date=supply_date,
        source_key=source_key,
        legal_entity=brand.legal_entity,
        brand=brand,
        person_id=buyer.get("person_id"),
        customer=customer,
        charge=charge,
        refund=refund,
        original=original,
        seller=seller,
        buyer=buyer,
        **tax_fields(result),
        currency=currency,
        net=result.net,
        tax=result.tax,
        gross=result.gross,
        language=language,
        reason=reason,
    )
    if result.tax and seller.get("registered"):
        converted = vat_in_national_currency(
            seller_country=seller["country"], currency=currency, tax=result.tax, on=supply_date
        )
        if converted is not None:
            document.vat_accounting = converted.as_json(currency)
    document.has_facturx = facturx_applies(document)
    document.pdf = document_pdf(document, brand)
    document.save()
    if send:
        from billingdesk.documents.tasks import document_send_task

        enqueue_on_commit(document_send_task, document.pk, automatic=True)
    return document


def _charge_line(charge: Charge) -> str:
    return charge.description or charge.product or f"Payment {charge.gateway_id}"


def document_issue_for_charge(*, charge_id: int, send: bool = True) -> Document | None:
    """The invoice (B2B, or B2C when the brand says so) or receipt for a paid charge
    (``send``: emailed to the customer once issued).

    Returns the existing document when there is one, ``None`` when the charge was never paid
    or no brand covers its account.
    """
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("customer", "account")
            .get(pk=charge_id)
        )
        existing = Document.objects.filter(source_key=f"charge:{charge.pk}").first()
        if existing is not None:
            return existing
        if charge.status not in PAID_STATUSES:
            return None
        brand = brand_for_account(charge.account)
        if brand is None:
            logger.info(
                "no brand for account %s: no document for charge %s", charge.account_id, charge.pk
            )
            return None
        amount = charge.amount_captured or charge.amount
        if amount <= 0:
            return None
        seller = seller_snapshot(brand.legal_entity)
        buyer = buyer_snapshot(customer=charge.customer, brand=brand)
        supply = (charge.gateway_created_at or timezone.now()).date()
        result = _tax(
            seller=seller,
            buyer=buyer.snapshot,
            lines=[LineIn(_charge_line(charge), amount)],
            on=supply,
        )
        kind = (
            DocumentKind.INVOICE
            if buyer.snapshot["is_business"] or brand.b2c_document == Brand.B2CKind.INVOICE
            else DocumentKind.RECEIPT
        )
        return _issue(
            kind=kind,
            source_key=f"charge:{charge.pk}",
            brand=brand,
            seller=seller,
            buyer=buyer.snapshot,
            language=buyer.language,
            result=result,
            currency=charge.currency.upper(),
            supply_date=supply,
            customer=charge.customer,
            charge=charge,
            send=send,
        )


def _current_document_for_charge(charge: Charge) -> Document | None:
    """The sale document in force for a charge: the latest replacement, else the first."""
    return (
        Document.objects.filter(charge=charge, kind__in=SALE_KINDS)
        .select_related("brand__legal_entity", "original")
        .order_by("-issued_at", "-id")
        .first()
    )
