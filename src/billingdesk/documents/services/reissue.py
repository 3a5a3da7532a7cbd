"""Re-issuing after the fact: a customer's tax id arrives, and each recent sale document
without one is credited and replaced by an invoice that carries it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from billingdesk.billing.models import Customer
from billingdesk.core.errors import GatewayUnavailable, InvalidRequest
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.models import BillingProfile, Document, DocumentKind
from billingdesk.documents.services.credit import _credit, _credited
from billingdesk.documents.services.issue import SALE_KINDS, _issue
from billingdesk.documents.services.parties import buyer_snapshot
from billingdesk.documents.services.taxing import _tax
from billingdesk.documents.tax import LineIn, spread

logger = logging.getLogger(__name__)


KEEP_GROSS = "keep_gross"
KEEP_NET = "keep_net"


def reissue_price_policy() -> str:
    """``BILLINGDESK_REISSUE_PRICE_POLICY``: what a re-issue that becomes tax-free (reverse
    charge) invoices. ``keep_gross`` (default): the money kept, all of it now net, so the
    documents match the payment and nobody is refunded. ``keep_net``: the earlier net price;
    the VAT difference is owed back to the customer, refunded by finance (an action), and that
    refund then credits nothing."""
    value = getattr(settings, "BILLINGDESK_REISSUE_PRICE_POLICY", KEEP_GROSS)
    if value not in (KEEP_GROSS, KEEP_NET):
        raise ImproperlyConfigured(
            f"BILLINGDESK_REISSUE_PRICE_POLICY must be {KEEP_GROSS} or {KEEP_NET}, not {value!r}"
        )
    return str(value)


def _kept_lines(document: Document, kept: int, *, by: str) -> list[LineIn]:
    """``document``'s lines with ``kept`` shared over them in proportion to their ``by``
    amount (``gross`` or ``net``): everything when nothing was credited yet."""
    shares = spread(kept, [line[by] for line in document.lines])
    lines = []
    for line, share in zip(document.lines, shares, strict=True):
        if share <= 0:
            continue
        quantity = line["quantity"] if share % line["quantity"] == 0 else 1
        lines.append(LineIn(line["description"], share // quantity, quantity))
    return lines


def document_reissue_for_tax_id(*, customer_id: int) -> list[Document]:
    """The customer now has a valid tax id: each recent sale document issued without one is
    cancelled by a credit note and replaced by an invoice that carries it (and the tax
    treatment that follows, e.g. reverse charge). Returns the new documents."""
    issued: list[Document] = []
    since = timezone.now() - timedelta(days=settings.BILLINGDESK_REISSUE_DAYS)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        candidates = list(
            Document.objects.filter(customer=customer, kind__in=SALE_KINDS, issued_at__gte=since)
            .select_related("brand__legal_entity", "charge")
            .order_by("issued_at", "id")
        )
        for document in candidates:
            if document.buyer.get("tax_id"):
                continue
            if Document.objects.filter(source_key=f"reissue:{document.pk}").exists():
                continue
            buyer = buyer_snapshot(customer=customer, brand=document.brand)
            if not buyer.snapshot["tax_id"]:
                continue
            credited = _credited(document)
            kept = document.gross - credited.gross
            if kept <= 0:
                continue  # refunded in full: nothing left to re-invoice
            # Credit only what is not credited yet, and re-invoice only what was kept.
            credit = _credit(
                original=document,
                amount=kept,
                source_key=f"reissue-credit:{document.pk}",
                reason="customer tax id added: replaced by a new invoice",
            )
            result = _tax(
                seller=document.seller,
                buyer=buyer.snapshot,
                lines=_kept_lines(document, kept, by="gross"),
                on=document.supply_date,
            )
            if result.tax == 0 and document.tax and reissue_price_policy() == KEEP_NET:
                result = _tax(
                    seller=document.seller,
                    buyer=buyer.snapshot,
                    lines=_kept_lines(document, document.net - credited.net, by="net"),
                    on=document.supply_date,
                )
            replacement = _issue(
                kind=DocumentKind.INVOICE,
                source_key=f"reissue:{document.pk}",
                brand=document.brand,
                seller=document.seller,
                buyer=buyer.snapshot,
                language=buyer.language,
                result=result,
                currency=document.currency,
                supply_date=document.supply_date,
                customer=customer,
                charge=document.charge,
                original=document,
                reason="customer tax id added",
            )
            issued += [credit, replacement]
    return issued


def billing_profile_set_tax_id(*, person_id: int, country: str, value: str) -> BillingProfile:
    """Record a person's tax id (billing page, agent): refused with the reason when the number
    is invalid; when valid, their recent documents are re-issued with it after commit."""
    from billingdesk.documents.tasks import reissue_for_tax_id_task
    from billingdesk.documents.taxids import tax_id_validate, vies_check

    check = tax_id_validate(country=country, value=value)
    if check.kind == "eu_vat":
        try:
            registered = vies_check(vat_number=check.value)  # None unless BILLINGDESK_VIES_CHECK
        except GatewayUnavailable as exc:
            # VIES is often slow or down per member state: the offline check stands.
            logger.warning("VIES unavailable for %s: %s", check.value, exc.message)
            registered = None
        if registered is not None and not registered.valid:
            raise InvalidRequest(
                f"{check.value} is not an active VAT registration according to VIES",
                code="invalid_tax_id",
            )
    with transaction.atomic():
        profile, _ = BillingProfile.objects.select_for_update().get_or_create(person_id=person_id)
        profile.tax_id = check.value
        profile.country = check.country if check.country != "EL" else "GR"
        profile.save(update_fields=["tax_id", "country"])
        for customer_id in Customer.objects.filter(person_id=person_id).values_list(
            "pk", flat=True
        ):
            enqueue_on_commit(reissue_for_tax_id_task, customer_id)
    return profile
