"""Issuing documents: an invoice or receipt per paid charge, a credit note per refund, and a
credit note plus a replacement invoice when a customer's tax id arrives after the fact.

Each service is one transaction: the series counter is locked, the number taken, the tax
computed, the PDF rendered and the document inserted together, so a failure leaves neither a
gap in the numbering nor a half-issued document. Each is idempotent through the document's
``source_key`` (one document per charge, per refund, per replacement). Email goes out after
commit (``documents.tasks.document_send_task``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from billingdesk.billing.models import Charge, Customer, Refund, TaxId
from billingdesk.core.errors import GatewayUnavailable, InvalidRequest
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.exchange import vat_in_national_currency
from billingdesk.documents.models import (
    BillingProfile,
    Brand,
    Document,
    DocumentKind,
    IssueProblem,
    LegalEntity,
    TaxRate,
)
from billingdesk.documents.numbering import number_take, series_for
from billingdesk.documents.render.facturx import facturx_applies
from billingdesk.documents.render.labels import language_for
from billingdesk.documents.render.layout import document_pdf
from billingdesk.documents.tax import (
    LineIn,
    Party,
    Rate,
    RateTable,
    TaxResult,
    compute,
    default_rate_table,
    percent_text,
    spread,
)
from billingdesk.documents.taxids import gstin_state, in_state, tax_id_check
from billingdesk.gateways.interface import ChargeStatus, RefundStatus
from billingdesk.gateways.models import GatewayAccount

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


def rate_table() -> RateTable:
    """The rates in the database (seeded from data/rates.json, edited in the admin); the
    shipped table when the database has none (e.g. after a flush)."""
    rows = list(TaxRate.objects.all())
    if not rows:
        return default_rate_table()
    return RateTable(
        Rate(
            country=r.country,
            region=r.region,
            name=r.name,
            percent=r.percent,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in rows
    )


def brand_for_account(account: GatewayAccount) -> Brand | None:
    brand = (
        Brand.objects.select_related("legal_entity").filter(accounts=account).first()
        or Brand.objects.select_related("legal_entity").filter(is_default=True).first()
    )
    return brand


def seller_snapshot(entity: LegalEntity) -> dict[str, Any]:
    region = entity.region
    if entity.country == "IN":
        # The seller's GSTIN says which state it supplies from.
        region = gstin_state(entity.vat_number) or in_state(entity.region) or entity.region
    return {
        "name": entity.name,
        "legal_form": entity.legal_form,
        "share_capital": entity.share_capital,
        "address_lines": [entity.address_line1, entity.address_line2],
        "postcode": entity.postcode,
        "city": entity.city,
        "region": region,
        "country": entity.country,
        "vat_number": entity.vat_number,
        "registered": entity.tax_registered,
        "company_ids": dict(entity.company_ids or {}),
        "late_payment_terms": entity.late_payment_terms,
        "email": entity.email,
        "has_signature": bool(entity.signature_png),
    }


@dataclass(frozen=True)
class _Buyer:
    snapshot: dict[str, Any]
    language: str


def buyer_snapshot(*, customer: Customer | None, brand: Brand) -> _Buyer:
    """Who is billed, as known now: billing profile first, then the mirrored customer."""
    profile: BillingProfile | None = None
    if customer is not None and customer.person_id is not None:
        profile = BillingProfile.objects.filter(person_id=customer.person_id).first()
    country = (
        (profile.country if profile else "") or (customer.country if customer else "") or ""
    ).upper()
    if not country:
        # No evidence of where the customer is: treat the sale as domestic (documented).
        country = brand.legal_entity.country
    tax_id_raw = profile.tax_id if profile and profile.tax_id else ""
    if not tax_id_raw and customer is not None:
        latest = (
            TaxId.objects.filter(customer=customer, deleted=False)
            .order_by("-gateway_updated_at", "-id")
            .first()
        )
        if latest is not None:
            tax_id_raw = latest.value
            country = (latest.country or country).upper()
    tax_id = ""
    tax_id_kind = ""
    tax_id_problem = ""
    if tax_id_raw:
        check = tax_id_check(country=country, value=tax_id_raw)
        if check.valid:
            tax_id, tax_id_kind = check.value, check.kind
        else:
            tax_id_problem = f"{tax_id_raw}: {check.reason}"
    region = profile.region if profile else ""
    if country == "IN":
        # A registered recipient's place of supply is its GSTIN's state, not the address.
        region = (gstin_state(tax_id) if tax_id_kind == "in_gst" else "") or in_state(region)
    name = (profile.company_name if profile else "") or (customer.name if customer else "")
    snapshot = {
        "name": name or (customer.email if customer else ""),
        "email": customer.email if customer else "",
        "address_lines": [profile.address_line1, profile.address_line2] if profile else [],
        "postcode": profile.postcode if profile else "",
        "city": profile.city if profile else "",
        "region": region,
        "country": country,
        "tax_id": tax_id,
        "tax_id_kind": tax_id_kind,
        "tax_id_problem": tax_id_problem,
        "is_business": bool(tax_id),
        "siren": (profile.siren if profile and country == "FR" else "") or "",
        "person_id": customer.person_id if customer else None,
    }
    language = language_for((profile.language if profile else "") or brand.default_language)
    return _Buyer(snapshot, language)


def _tax(
    *, seller: dict[str, Any], buyer: dict[str, Any], lines: list[LineIn], on: date
) -> TaxResult:
    return compute(
        seller=Party(seller["country"], seller.get("region", ""), registered=seller["registered"]),
        buyer=Party(buyer["country"], buyer.get("region", ""), is_business=buyer["is_business"]),
        lines=lines,
        on=on,
        prices_include_tax=True,  # a payment's amount is what the customer paid, tax included
        rates=rate_table(),
    )


def tax_fields(result: TaxResult) -> dict[str, Any]:
    """A document's line, tax and treatment fields from the tax engine's result."""
    return {
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_net": line.unit_net,
                "net": line.net,
                "tax": line.tax,
                "gross": line.gross,
                "percent": percent_text(line.percent),
            }
            for line in result.lines
        ],
        "tax_lines": [
            {
                "name": t.name,
                "percent": percent_text(t.percent),
                "taxable": t.taxable,
                "amount": t.amount,
                "category": t.category,
            }
            for t in result.tax_lines
        ],
        "treatment": result.treatment.value,
        "tax_category": result.category,
        "tax_country": result.tax_country,
        "prices_include_tax": result.prices_include_tax,
    }


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


def document_issue_for_charge(*, charge_id: int) -> Document | None:
    """The invoice (B2B, or B2C when the brand says so) or receipt for a paid charge.

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
        )


def _current_document_for_charge(charge: Charge) -> Document | None:
    """The sale document in force for a charge: the latest replacement, else the first."""
    return (
        Document.objects.filter(charge=charge, kind__in=SALE_KINDS)
        .select_related("brand__legal_entity", "original")
        .order_by("-issued_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class _Credited:
    """What the credit notes already issued against a document add up to."""

    gross: int
    net: int
    tax: int
    tax_by_name: dict[str, int]
    count: int


def _credited(original: Document) -> _Credited:
    """The credit notes of ``original`` so far. The original's row is locked first, so two
    refunds of one charge credit it one after the other and each sees the other's note."""
    Document.objects.select_for_update().filter(pk=original.pk).exists()
    notes = list(Document.objects.filter(original=original, kind=DocumentKind.CREDIT_NOTE))
    by_name: dict[str, int] = {}
    for note in notes:
        for line in note.tax_lines:
            by_name[line["name"]] = by_name.get(line["name"], 0) + line["amount"]
    return _Credited(
        gross=sum(n.gross for n in notes),
        net=sum(n.net for n in notes),
        tax=sum(n.tax for n in notes),
        tax_by_name=by_name,
        count=len(notes),
    )


def _remainder(result: TaxResult, *, original: Document, credited: _Credited) -> TaxResult:
    """The last credit note of a document: exactly what the earlier ones left, so that the
    document and its credit notes net to zero (three notes of 40 € against a 120 € invoice
    would otherwise credit 3 x 6,67 € VAT against 20,00 €)."""
    net = original.net - credited.net
    tax = original.tax - credited.tax
    originals = {line["name"]: line["amount"] for line in original.tax_lines}
    tax_lines = [
        replace(
            t, taxable=net, amount=originals.get(t.name, 0) - credited.tax_by_name.get(t.name, 0)
        )
        for t in result.tax_lines
    ]
    line = replace(result.lines[0], quantity=1, unit_net=net, net=net, tax=tax, gross=net + tax)
    return replace(result, lines=[line], tax_lines=tax_lines, net=net, tax=tax, gross=net + tax)


def _credit(
    *,
    original: Document,
    amount: int,
    source_key: str,
    reason: str,
    refund: Refund | None = None,
    send: bool = True,
) -> Document:
    """A credit note of ``amount`` (tax included) against ``original``, taxed as it was: same
    parties, same date of supply (so the same rate). The note that credits what remains of
    the document takes the remainder of every amount, absorbing the rounding of the others."""
    credited = _credited(original)
    remaining = original.gross - credited.gross
    if amount <= 0 or amount > remaining:
        raise InvalidRequest(
            f"a credit note of {original.number} must be between 1 and {remaining} minor "
            f"units (what is not credited yet), not {amount}"
        )
    description = original.lines[0]["description"] if original.lines else original.number
    result = _tax(
        seller=original.seller,
        buyer=original.buyer,
        lines=[LineIn(description, amount)],
        on=original.supply_date,
    )
    if amount == remaining and credited.count:
        result = _remainder(result, original=original, credited=credited)
    return _issue(
        kind=DocumentKind.CREDIT_NOTE,
        source_key=source_key,
        brand=original.brand,
        seller=original.seller,
        buyer=original.buyer,
        language=original.language,
        result=result,
        currency=original.currency,
        # The credit note corrects the original supply: its date of supply (and BT-72) is
        # the original's, not the refund's.
        supply_date=original.supply_date,
        customer=original.customer,
        charge=original.charge,
        refund=refund,
        original=original,
        reason=reason,
        send=send,
    )


def _refund_credit_amount(*, refund: Refund, charge: Charge, current: Document) -> int:
    """How much of ``refund`` to credit against the document in force.

    What the documents still invoice (``current`` less its credit notes) must come down to
    what the seller keeps once this refund and every earlier one are deducted; never more than
    the refund itself. Normally that is the refund's amount; after a keep-net re-issue the
    refund of the VAT difference credits nothing, since the replacement never invoiced it."""
    refunded = sum(
        Refund.objects.filter(
            charge=charge, status=RefundStatus.SUCCEEDED, deleted=False
        ).values_list("amount", flat=True)
    )
    kept_after = (charge.amount_captured or charge.amount) - refunded
    in_force = current.gross - _credited(current).gross
    return max(0, min(refund.amount, in_force - max(kept_after, 0)))


def credit_note_issue_for_refund(*, refund_id: int) -> Document | None:
    """The credit note for a succeeded refund, referring to the charge's document (issued
    first if the charge had none)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("charge")
            .get(pk=refund_id)
        )
        existing = Document.objects.filter(source_key=f"refund:{refund.pk}").first()
        if existing is not None:
            return existing
        if refund.status != RefundStatus.SUCCEEDED or refund.charge is None:
            return None
        original = _current_document_for_charge(refund.charge)
        if original is None:
            document_issue_for_charge(charge_id=refund.charge.pk)
            original = _current_document_for_charge(refund.charge)
        if original is None:
            return None
        amount = _refund_credit_amount(refund=refund, charge=refund.charge, current=original)
        if amount <= 0:
            # Nothing documented is given back: the refund returns the VAT difference of a
            # keep-net re-issue (see REISSUE_PRICE_POLICY), already out of the documents.
            logger.info("refund %s credits nothing of %s", refund.pk, original.number)
            return None
        return _credit(
            original=original,
            amount=amount,
            source_key=f"refund:{refund.pk}",
            reason=refund.reason or "refund",
            refund=refund,
        )


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


def issue_problem_record(
    *,
    source_key: str,
    reason: str,
    charge_id: int | None = None,
    refund_id: int | None = None,
    customer_id: int | None = None,
) -> IssueProblem:
    """Remember that a document could not be issued and why (one row per source, counting
    attempts), in its own transaction: the failed issue itself was rolled back."""
    with transaction.atomic():
        problem, created = IssueProblem.objects.select_for_update().get_or_create(
            source_key=source_key,
            defaults={
                "reason": reason,
                "charge_id": charge_id,
                "refund_id": refund_id,
                "customer_id": customer_id,
            },
        )
        if not created:
            problem.reason = reason
            problem.attempts += 1
            problem.resolved_at = None
            problem.save(update_fields=["reason", "attempts", "resolved_at", "last_seen"])
    return problem


def issue_problem_resolve(*, source_key: str) -> None:
    """The document was issued after all (or is not due): the problem is closed."""
    IssueProblem.objects.filter(source_key=source_key, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def issue_problem_retry(*, problem_id: int) -> None:
    """Queue the issue again (after finance fixed the configuration)."""
    from billingdesk.documents.tasks import (
        credit_note_for_refund_task,
        document_for_charge_task,
        reissue_for_tax_id_task,
    )

    problem = IssueProblem.objects.get(pk=problem_id)
    kind, _, ident = problem.source_key.partition(":")
    if kind == "charge":
        enqueue_on_commit(document_for_charge_task, int(ident))
    elif kind == "refund":
        enqueue_on_commit(credit_note_for_refund_task, int(ident))
    elif kind == "tax-id":
        enqueue_on_commit(reissue_for_tax_id_task, int(ident))
