"""Documents issued from the mirror's events, checked on the text extracted from the PDF."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from billingdesk.documents.models import Document
from billingdesk.documents.services import (
    credit_note_issue_for_refund,
    document_issue_for_charge,
)

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db


def _doc(charge) -> Document:
    return Document.objects.get(source_key=f"charge:{charge.pk}")


def _has_all(text: str, expected: list[str]) -> None:
    missing = [item for item in expected if item not in text]
    assert not missing, f"missing {missing} in: {text}"


def test_france_b2b_domestic_invoice_has_every_french_mention(drain_tasks):
    shop = shop_create("FR", language="fr")
    charge = shop.pay(amount=12000, country="FR", name="Client SARL")
    profile_set(
        charge.customer,
        company_name="Client SARL",
        address_line1="5 avenue Foch",
        postcode="69006",
        city="Lyon",
        country="FR",
        tax_id="FR 40 303 265 045",
    )
    drain_tasks()
    doc = _doc(charge)
    assert (doc.kind, doc.number, doc.treatment) == ("invoice", "F2026-000001", "domestic")
    assert (doc.net, doc.tax, doc.gross) == (10000, 2000, 12000)
    text = pdf_text(bytes(doc.pdf))
    _has_all(
        text,
        [
            "Facture",
            "N° F2026-000001",
            "Date d'émission",
            "Date de la prestation",
            "Acme France",
            "SAS — capital 10 000 €",
            "1 rue de la Paix",
            "75002 Paris",
            "SIREN 303265045",
            "RCS Paris B 303 265 045",
            "N° TVA intracommunautaire FR40303265045",
            "Client SARL",
            "5 avenue Foch",
            "69006 Lyon",
            "Pro plan, November 2026",
            "Prix unitaire HT",
            "Taux TVA",
            "20 %",
            "Total HT",
            "100,00 €",
            "Total TVA",
            "20,00 €",
            "Total TTC",
            "120,00 €",
            "Pénalités de retard : taux BCE + 10 points",
            "indemnité forfaitaire pour frais de recouvrement : 40 €",
            "pas d'escompte pour paiement anticipé",
            "prestation de services",
            "Page 1/1",
        ],
    )


def test_intra_eu_b2b_is_reverse_charge_in_both_languages_with_facturx(drain_tasks):
    shop = shop_create("FR", language="fr")
    charge = shop.pay(amount=5000, country="DE", name="Kunde GmbH")
    profile_set(
        charge.customer,
        company_name="Kunde GmbH",
        country="DE",
        language="de",
        city="Berlin",
        postcode="10115",
        address_line1="Invalidenstr. 1",
        tax_id="DE136695976",
    )
    drain_tasks()
    doc = _doc(charge)
    assert (doc.treatment, doc.tax_category, doc.tax, doc.has_facturx) == (
        "reverse_charge",
        "AE",
        0,
        True,
    )
    text = pdf_text(bytes(doc.pdf))
    _has_all(
        text,
        [
            "Rechnung",
            "USt-IdNr. DE136695976",
            "Steuerschuldnerschaft des Leistungsempfängers",
            "Autoliquidation",
            "USt-Satz",
            "0 %",
            "50,00 €",
            "Leistungsdatum",
        ],
    )


def test_eu_b2c_abroad_charges_the_customers_vat_under_oss(drain_tasks):
    shop = shop_create("FR", b2c_document="receipt")
    charge = shop.pay(amount=11900, country="DE")
    drain_tasks()
    doc = _doc(charge)
    assert (doc.kind, doc.treatment, doc.tax_country, doc.net, doc.tax) == (
        "receipt",
        "oss",
        "DE",
        10000,
        1900,
    )
    assert not doc.has_facturx
    text = pdf_text(bytes(doc.pdf))
    _has_all(text, ["Receipt", "One-Stop Shop", "19 %", "€119.00"])


def test_spain_invoice_and_factura_rectificativa(drain_tasks):
    shop = shop_create("ES", language="es")
    charge = shop.pay(amount=12100, country="ES", name="Cliente SA")
    profile_set(
        charge.customer,
        company_name="Cliente SA",
        country="ES",
        address_line1="Gran Vía 2",
        postcode="28013",
        city="Madrid",
        tax_id="ESB58378431",
    )
    drain_tasks()
    invoice = _doc(charge)
    shop.refund(charge, 6050, reason="duplicate")
    drain_tasks()
    credit = Document.objects.get(kind="credit_note")
    assert credit.original_id == invoice.pk
    assert (credit.number, credit.net, credit.tax, credit.gross) == (
        "FAC2026-000001",
        5000,
        1050,
        6050,
    )
    _has_all(
        pdf_text(bytes(invoice.pdf)),
        [
            "Factura",
            "Nº FA2026-000001",
            "NIF ESB58378431",
            "Cliente SA",
            "Gran Vía 2",
            "Fecha de expedición",
            "Tipo IVA",
            "21 %",
            "Cuota",
            "21,00 €",
            "Base imponible",
        ],
    )
    _has_all(
        pdf_text(bytes(credit.pdf)),
        [
            "Factura rectificativa",
            "FAC2026-000001",
            "Rectifica la factura FA2026-000001",
            "Motivo: pago duplicado",
            "50,00 €",
            "10,50 €",
            "60,50 €",
        ],
    )


def test_germany_domestic_invoice(drain_tasks):
    shop = shop_create("DE", language="de")
    charge = shop.pay(amount=11900, country="DE", name="Max Mustermann")
    drain_tasks()
    text = pdf_text(bytes(_doc(charge).pdf))
    _has_all(
        text,
        [
            "Rechnung",
            "Nr. RE2026-000001",
            "Rechnungsdatum",
            "Leistungsdatum",
            "Acme Deutschland GmbH",
            "USt-IdNr. DE136695976",
            "HRB Berlin HRB 12345",
            "Max Mustermann",
            "19 %",
            "100,00 €",
            "19,00 €",
            "119,00 €",
            "Art der Leistung",
        ],
    )


def test_uk_vat_invoice(drain_tasks):
    shop = shop_create("GB")
    charge = shop.pay(amount=12000, currency="GBP", country="GB", name="Jo Bloggs")
    drain_tasks()
    text = pdf_text(bytes(_doc(charge).pdf))
    _has_all(
        text,
        [
            "Invoice",
            "No. INV2026-000001",
            "Date of issue",
            "Date of supply (tax point)",
            "Acme UK Ltd",
            "1 King Street",
            "VAT Reg. No. GB980780684",
            "Jo Bloggs",
            "Unit price excl. tax",
            "Tax rate",
            "20 %",
            "£100.00",
            "£20.00",
            "£120.00",
        ],
    )


def test_uk_seller_to_eu_business_is_outside_scope(drain_tasks):
    shop = shop_create("GB")
    charge = shop.pay(amount=10000, currency="GBP", country="FR")
    profile_set(charge.customer, country="FR", tax_id="FR40303265045")
    drain_tasks()
    doc = _doc(charge)
    assert (doc.treatment, doc.tax) == ("outside_scope", 0)
    _has_all(pdf_text(bytes(doc.pdf)), ["Outside the scope of UK VAT", "VAT number FR40303265045"])


def test_australia_tax_invoice(drain_tasks):
    shop = shop_create("AU")
    charge = shop.pay(amount=110000, currency="AUD", country="AU", name="Bruce Pty Ltd")
    profile_set(
        charge.customer, company_name="Bruce Pty Ltd", country="AU", tax_id="51 824 753 556"
    )
    drain_tasks()
    doc = _doc(charge)
    assert (doc.net, doc.tax) == (100000, 10000)
    _has_all(
        pdf_text(bytes(doc.pdf)),
        [
            "Tax invoice",
            "TI2026-000001",
            "ABN 51824753556",
            "Acme Australia Pty Ltd",
            "Bruce Pty Ltd",
            "GST 10 %",
            "$100.00",
            "Total price includes GST",
            "$1,100.00",
        ],
    )


def test_india_intra_state_tax_invoice(drain_tasks):
    shop = shop_create("IN")
    charge = shop.pay(amount=118000, currency="INR", country="IN", name="Buyer Pvt Ltd")
    profile_set(
        charge.customer,
        company_name="Buyer Pvt Ltd",
        country="IN",
        region="KA",
        address_line1="2 Residency Rd",
        city="Bengaluru",
        tax_id="29AAPFU0939F1ZR",
    )
    drain_tasks()
    doc = _doc(charge)
    assert len(doc.number) <= 16
    assert [(t["name"], t["amount"]) for t in doc.tax_lines] == [("CGST", 9000), ("SGST", 9000)]
    _has_all(
        pdf_text(bytes(doc.pdf)),
        [
            "Tax invoice",
            "IN2026-000001",
            "GSTIN 29AAPFU0939F1ZR",
            "Buyer Pvt Ltd",
            "2 Residency Rd",
            "Karnataka (29)",
            "CGST 9 %",
            "SGST 9 %",
            "₹90.00",
            "Place of supply: Karnataka (state code 29)",
            "Tax payable on reverse charge: No",
            "SAC: 998314",
            "₹1,180.00",
        ],
    )


def test_india_inter_state_is_igst(drain_tasks):
    shop = shop_create("IN")
    charge = shop.pay(amount=118000, currency="INR", country="IN")
    profile_set(charge.customer, country="IN", region="MH")
    drain_tasks()
    doc = _doc(charge)
    assert [(t["name"], t["amount"]) for t in doc.tax_lines] == [("IGST", 18000)]
    _has_all(
        pdf_text(bytes(doc.pdf)), ["IGST 18 %", "Place of supply: Maharashtra (state code 27)"]
    )


def test_one_document_per_charge_and_per_refund_even_when_events_repeat(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    first = _doc(charge)
    assert document_issue_for_charge(charge_id=charge.pk) == first
    refund = shop.refund(charge, 500)
    drain_tasks()
    credit = Document.objects.get(refund=refund)
    assert credit_note_issue_for_refund(refund_id=refund.pk) == credit
    assert Document.objects.count() == 2


def test_failed_and_uncaptured_charges_get_no_document(drain_tasks):
    from billingdesk.billing.models import Charge

    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    Charge.objects.filter(pk=charge.pk).update(status="authorized")
    assert document_issue_for_charge(charge_id=charge.pk) is None
    Charge.objects.filter(pk=charge.pk).update(status="failed")
    assert document_issue_for_charge(charge_id=charge.pk) is None
    assert not Document.objects.exists()


def test_tax_id_added_later_reissues_credit_note_and_new_invoice(drain_tasks):
    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country="BE")
    drain_tasks()
    first = _doc(charge)
    assert (first.treatment, first.tax) == ("oss", 2083)  # Belgian 21 % contained in 120 € = 20.826
    shop.add_tax_id(charge.customer, "BE0403170701", "BE")
    drain_tasks()
    credit = Document.objects.get(source_key=f"reissue-credit:{first.pk}")
    new = Document.objects.get(source_key=f"reissue:{first.pk}")
    assert credit.kind == "credit_note" and credit.original_id == first.pk
    assert credit.gross == first.gross and credit.tax == first.tax
    assert (new.kind, new.treatment, new.tax, new.gross, new.original_id) == (
        "invoice",
        "reverse_charge",
        0,
        12000,
        first.pk,
    )
    assert new.buyer["tax_id"] == "BE0403170701"
    _has_all(
        pdf_text(bytes(new.pdf)), ["Cancels and replaces invoice F2026-000001", "Reverse charge"]
    )
    # replaying the event issues nothing more
    shop.add_tax_id(charge.customer, "BE0403170701", "BE")
    drain_tasks()
    assert Document.objects.count() == 3


def test_issued_documents_are_immutable(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    doc = _doc(charge)
    doc.gross = 1
    with pytest.raises(ValidationError):
        doc.save()
    with pytest.raises(ValidationError):
        doc.delete()
    assert Document.objects.get(pk=doc.pk).gross == 1190


def test_emailed_automatically_after_issue(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE", email="kunde@example.org")
    drain_tasks()
    doc = _doc(charge)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kunde@example.org"]
    assert doc.message_id and doc.emailed_at is not None


def test_receipt_opt_out_stops_automatic_email(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    profile_set(charge.customer, receipts_opt_out=True)
    drain_tasks()
    assert _doc(charge).emailed_at is None
    assert mail.outbox == []


def test_tax_id_entered_on_the_profile_is_validated_and_reissues(drain_tasks):
    from billingdesk.core.errors import InvalidRequest
    from billingdesk.documents.services import billing_profile_set_tax_id

    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country="IT")
    drain_tasks()
    first = _doc(charge)
    with pytest.raises(InvalidRequest, match="invalid check digit"):
        billing_profile_set_tax_id(
            person_id=charge.customer.person_id, country="IT", value="IT00743110158"
        )
    assert Document.objects.count() == 1  # nothing issued for a refused number
    billing_profile_set_tax_id(
        person_id=charge.customer.person_id, country="IT", value="IT 00743110157"
    )
    drain_tasks()
    new = Document.objects.get(source_key=f"reissue:{first.pk}")
    assert (new.treatment, new.buyer["tax_id"]) == ("reverse_charge", "IT00743110157")


def test_long_documents_continue_on_further_pages(drain_tasks):
    from django.db import transaction

    from billingdesk.documents.services import _issue, buyer_snapshot, seller_snapshot
    from billingdesk.documents.tax import LineIn, Party, compute

    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    lines = [LineIn(f"Seat {i} — team plan, monthly", 1000) for i in range(70)]
    result = compute(
        seller=Party("DE"),
        buyer=Party("DE"),
        lines=lines,
        on=charge.gateway_created_at.date(),
        prices_include_tax=False,
    )
    with transaction.atomic():
        doc = _issue(
            kind="invoice",
            source_key="manual:1",
            brand=shop.brand,
            seller=seller_snapshot(shop.entity),
            buyer=buyer_snapshot(customer=charge.customer, brand=shop.brand).snapshot,
            language="de",
            result=result,
            currency="EUR",
            supply_date=charge.gateway_created_at.date(),
            customer=charge.customer,
            send=False,
        )
    text = pdf_text(bytes(doc.pdf))
    _has_all(
        text,
        [
            "Seite 1/3",
            "Seite 3/3",
            "USt 19 %",
            "Seat 0 —",
            "Seat 69 —",
            "700,00 €",
            "133,00 €",
            "833,00 €",
        ],
    )


def test_brand_logo_is_embedded(drain_tasks):
    import io
    import sys
    from pathlib import Path

    import pypdf

    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "bench"))
    from invoice_pdf import png_logo

    shop = shop_create("DE")
    shop.brand.logo_png = png_logo()
    shop.brand.save()
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    reader = pypdf.PdfReader(io.BytesIO(bytes(_doc(charge).pdf)))
    image = reader.pages[0]["/Resources"]["/XObject"]["/Im1"].get_object()
    assert (image["/Width"], image["/Height"], image["/ColorSpace"]) == (240, 80, "/DeviceRGB")


def test_canada_hst_by_province(drain_tasks):
    shop = shop_create("CA")
    charge = shop.pay(amount=11300, currency="CAD", country="CA", name="Maple Inc")
    profile_set(charge.customer, company_name="Maple Inc", country="CA", region="ON")
    drain_tasks()
    doc = _doc(charge)
    assert [(t["name"], t["percent"], t["amount"]) for t in doc.tax_lines] == [("HST", "13", 1300)]
    _has_all(
        pdf_text(bytes(doc.pdf)),
        ["Invoice", "GST/HST No. 123456782RT0001", "Maple Inc", "HST 13 %", "$113.00"],
    )


def test_demo_issuer_makes_sandbox_payments_documented(drain_tasks):
    from django.core.management import call_command

    from billingdesk.documents.tests.conftest import DOCUMENTS_FROM, Shop
    from billingdesk.gateways.models import GatewayAccount

    call_command("documents_demo_setup", stdout=None)
    call_command("documents_demo_setup", stdout=None)  # idempotent
    from billingdesk.documents.models import Brand

    brand = Brand.objects.get(name="billingdesk demo")
    account = GatewayAccount.objects.create(
        kind="sandbox", name="demo store", documents_from=DOCUMENTS_FROM
    )
    charge = Shop(account=account, brand=brand, entity=brand.legal_entity).pay(
        amount=1200, country="FR"
    )
    drain_tasks()
    doc = _doc(charge)
    assert (doc.kind, doc.number, doc.tax) == ("receipt", "R2026-000001", 200)
