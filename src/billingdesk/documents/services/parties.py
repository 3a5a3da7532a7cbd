"""Who a document is between: the brand that covers an account, and snapshots of the seller
and the buyer as known when the document is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billingdesk.billing.models import Customer, TaxId
from billingdesk.documents.models import BillingProfile, Brand, LegalEntity
from billingdesk.documents.render.labels import language_for
from billingdesk.documents.taxids import gstin_state, in_state, tax_id_check
from billingdesk.gateways.models import GatewayAccount


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
