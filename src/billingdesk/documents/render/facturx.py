"""Factur-X (EN 16931 profile, CII syntax) XML for a document, built with the factur-x library.

The library takes a dict keyed by EN 16931 business terms (BT-/BG-) and writes the CII XML;
we fill it from the document's snapshots. Emitted for EU sellers invoicing a business buyer
(domestic or intra-EU reverse charge), the B2B cases the e-invoicing mandates cover.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from facturx import xml_check_xsd

from billingdesk.core.money import currency_exponent
from billingdesk.documents.render.cii_template import cii_xml
from billingdesk.documents.tax import EU_COUNTRIES

if TYPE_CHECKING:
    from billingdesk.documents.models import Document

GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
# UNTDID 1001: 380 commercial invoice, 381 credit note.
TYPE_CODES = {"invoice": "380", "receipt": "380", "credit_note": "381"}
_REVERSE_CHARGE_TEXT = "Reverse charge"
_REVERSE_CHARGE_CODE = "VATEX-EU-AE"


def facturx_applies(document: Document) -> bool:
    seller, buyer = document.seller, document.buyer
    return (
        seller.get("country") in EU_COUNTRIES
        and buyer.get("country") in EU_COUNTRIES
        and bool(buyer.get("is_business"))
        and bool(seller.get("vat_number"))
        and document.tax_category in {"S", "AE"}
    )


def _amount(minor: int, currency: str) -> str:
    exp = currency_exponent(currency)
    return f"{Decimal(minor).scaleb(-exp):.{exp}f}"


def _party(snapshot: dict[str, Any], *, with_legal_id: bool) -> dict[str, Any]:
    address = [line for line in snapshot.get("address_lines", []) if line]
    party: dict[str, Any] = {
        "name": snapshot["name"],
        "country_code": snapshot["country"],
        "postcode": snapshot.get("postcode") or "",
        "city": snapshot.get("city") or "",
    }
    for key, line in zip(("addr_l1", "addr_l2"), address, strict=False):
        party[key] = line
    vat = snapshot.get("vat_number") or snapshot.get("tax_id")
    if vat:
        party["vat_identifier"] = vat
    siren = (snapshot.get("company_ids") or {}).get("SIREN") or snapshot.get("siren")
    if with_legal_id and siren:
        party["legal_identifier"] = siren
        party["legal_identifier_schemeid"] = "0002"  # ISO 6523 ICD for SIREN
    if snapshot.get("country") == "FR" and siren:
        # French reform: the electronic address (BT-34/BT-49) is the SIREN in the PPF
        # directory scheme 0225, which is what a PDP/PA routes on.
        party["einvoicing_addr"] = siren
        party["einvoicing_addr_schemeid"] = "0225"
    elif snapshot.get("email"):
        party["einvoicing_addr"] = snapshot["email"]
        party["einvoicing_addr_schemeid"] = "EM"
    return {k: v for k, v in party.items() if v != ""}


def facturx_xml(document: Document, *, check_xsd: bool = False) -> bytes:
    """The CII XML of ``document`` (EN 16931 profile): the factur-x library's output, through
    a template of it compiled once per document shape (``cii_template``)."""
    xml = cii_xml(facturx_data(document))
    if check_xsd:
        xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def facturx_data(document: Document) -> dict[str, Any]:
    """The factur-x library's input for ``document``: EN 16931 business terms (BT-/BG-)."""
    currency = document.currency
    reverse = document.tax_category == "AE"
    data: dict[str, Any] = {
        "BT-1": document.number,
        "BT-2": document.issued_at.date(),
        "BT-3": TYPE_CODES[document.kind],
        "BT-5": currency,
        "BT-24": GUIDELINE_EN16931,
        "BT-72": document.supply_date,
        "BT-81": "48",  # bank card (UNTDID 4461): documents follow a card payment
        "BG-4": _party(document.seller, with_legal_id=True),
        "BG-7": _party(document.buyer, with_legal_id=True),
        "BG-25": [
            {
                "BT-126": str(index),
                "BT-129": str(line["quantity"]),
                "BT-130": "C62",  # "one" (UN/ECE rec. 20)
                "BT-131": _amount(line["net"], currency),
                "BT-146": _amount(line["unit_net"], currency),
                "BT-151": document.tax_category,
                "BT-152": _percent(line["percent"]),
                "BT-153": line["description"][:200] or "-",
            }
            for index, line in enumerate(document.lines, start=1)
        ],
        "BG-23": [
            {
                "BT-116": _amount(document.net, currency),
                "BT-117": _amount(document.tax, currency),
                "BT-118": document.tax_category,
                "BT-119": _percent(str(sum(Decimal(t["percent"]) for t in document.tax_lines))),
                **(
                    {"BT-120": _REVERSE_CHARGE_TEXT, "BT-121": _REVERSE_CHARGE_CODE}
                    if reverse
                    else {}
                ),
            }
        ],
        "BT-106": _amount(document.net, currency),
        "BT-109": _amount(document.net, currency),
        "BT-110": _amount(document.tax, currency),
        "BT-112": _amount(document.gross, currency),
        "BT-113": _amount(document.gross, currency),
        "BT-115": _amount(0, currency),
    }
    if document.seller.get("country") == "FR":
        data.update(_french_reform(document))
    converted = document.vat_accounting
    if converted:
        # BT-6/BT-111: the VAT in the seller's accounting currency (Art. 230; BR-53).
        data["BT-6"] = converted["currency"]
        data["BT-111"] = _amount(int(converted["tax"]), converted["currency"])
    if document.original is not None:
        data["BG-3"] = [
            {"BT-25": document.original.number, "BT-26": document.original.issued_at.date()}
        ]
    return data


def _percent(value: str) -> str:
    return format(Decimal(value).normalize(), "f")


# BT-23 billing framework (cadre de facturation, French reform): S2 = services invoice already
# paid, which is what a document after a card payment is.
FR_FRAMEWORK_PAID_SERVICES = "S2"


def _french_reform(document: Document) -> dict[str, Any]:
    """BR-FR Flux 2: the billing framework (BT-23) and the B2B payment notes the PDF prints
    (C. com. L441-10), as coded notes: PMD late-payment penalties, PMT the 40 € recovery fee,
    AAB no early-payment discount (UNTDID 4451)."""
    from billingdesk.documents.render.labels import label

    terms = document.seller.get("late_payment_terms") or label("fr_default_penalties", "fr")
    # Paid frameworks want the due date (BT-9) to be the payment date (BR-FR-CO-09): the
    # card payment for an invoice, the refund (the note's issue) for a credit note.
    paid_on = document.issued_at.date() if document.kind == "credit_note" else document.supply_date
    return {
        "BT-9": paid_on,
        "BT-23": FR_FRAMEWORK_PAID_SERVICES,
        "BG-1": [
            {"BT-21": "PMD", "BT-22": f"Pénalités de retard : {terms}"},
            {
                "BT-21": "PMT",
                "BT-22": "Indemnité forfaitaire pour frais de recouvrement : 40 €",
            },
            {"BT-21": "AAB", "BT-22": "Pas d'escompte pour paiement anticipé"},
        ],
    }
