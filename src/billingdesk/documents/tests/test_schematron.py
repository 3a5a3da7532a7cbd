"""Factur-X against the EN 16931 business rules (Schematron run by Saxon), not only the XSD.

Every test in this package is also checked by the autouse ``every_facturx_passes_en16931``
fixture (conftest): each Factur-X document any test issues must pass. These tests make sure
the check itself bites.
"""

from __future__ import annotations

import pytest
from facturx import get_xml_from_pdf

from billingdesk.documents.models import Document

from .conftest import profile_set, shop_create
from .schematron import assert_en16931, schematron_failures

pytestmark = pytest.mark.django_db


def _b2b(drain_tasks, seller: str, buyer_country: str, tax_id: str, amount: int = 12000):
    shop = shop_create(seller)
    charge = shop.pay(amount=amount, country=buyer_country, name="Client SARL")
    profile_set(
        charge.customer,
        company_name="Client SARL",
        country=buyer_country,
        city="Lyon",
        postcode="69001",
        address_line1="2 quai du Rhône",
        tax_id=tax_id,
    )
    drain_tasks()
    return Document.objects.get(charge=charge), shop


def _xml(document: Document) -> bytes:
    _, xml = get_xml_from_pdf(bytes(document.pdf), check_xsd=False)
    return xml


@pytest.mark.parametrize(
    ("seller", "country", "tax_id"),
    [
        ("FR", "FR", "FR44732829320"),  # domestic B2B, 20 %
        ("FR", "DE", "DE136695976"),  # reverse charge
        ("DE", "DE", "DE129273398"),  # domestic, 19 %
        ("ES", "FR", "FR44732829320"),  # reverse charge from Spain
    ],
)
def test_invoices_and_credit_notes_pass_en16931(
    drain_tasks, every_facturx_passes_en16931, seller, country, tax_id
):
    invoice, shop = _b2b(drain_tasks, seller, country, tax_id)
    assert invoice.has_facturx
    shop.refund(invoice.charge, 4000)
    drain_tasks()
    credit = Document.objects.get(kind="credit_note")
    assert credit.has_facturx
    for document in (invoice, credit):
        assert schematron_failures(_xml(document)) == []
    # The autouse fixture checks the same documents again after the test.
    assert {n for n, _, _ in every_facturx_passes_en16931} == {invoice.number, credit.number}


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        # Grand total no longer net + VAT.
        (b"<ram:GrandTotalAmount>120.00", b"<ram:GrandTotalAmount>121.00", "BR-CO-15"),
        # The VAT breakdown no longer adds up to the VAT total.
        (b"<ram:CalculatedAmount>20.00", b"<ram:CalculatedAmount>19.99", "BR-CO-14"),
        # An unknown currency (ISO 4217 code list of the shipped codedb).
        (b"<ram:InvoiceCurrencyCode>EUR", b"<ram:InvoiceCurrencyCode>EUX", "FX-SCH-A-000595"),
    ],
)
def test_a_broken_document_fails_with_its_rule_id(drain_tasks, old, new, rule):
    invoice, _ = _b2b(drain_tasks, "FR", "FR", "FR44732829320")
    xml = _xml(invoice)
    assert old in xml
    broken = xml.replace(old, new)
    assert rule in {f.rule for f in schematron_failures(broken)}
    with pytest.raises(AssertionError, match=rule):
        assert_en16931(broken)


def test_french_b2b_passes_br_fr_flux2_with_notes_framework_and_sirens(drain_tasks):
    from lxml import etree

    from .schematron import BR_FR_XSLT

    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country="FR", name="Client SARL")
    profile_set(
        charge.customer,
        company_name="Client SARL",
        country="FR",
        city="Lyon",
        postcode="69001",
        address_line1="2 quai du Rhône",
        tax_id="FR44732829320",
        siren="732829320",
    )
    drain_tasks()
    xml = _xml(Document.objects.get(charge=charge))
    assert schematron_failures(xml, xslt=BR_FR_XSLT) == []
    ram = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
    tree = etree.fromstring(xml)
    codes = [n.findtext(f"{ram}SubjectCode") for n in tree.iter(f"{ram}IncludedNote")]
    assert codes == ["PMD", "PMT", "AAB"]
    assert (
        tree.findtext(f".//{ram}BusinessProcessSpecifiedDocumentContextParameter/{ram}ID") == "S2"
    )
    buyer = tree.find(f".//{ram}BuyerTradeParty")
    assert buyer.findtext(f"{ram}SpecifiedLegalOrganization/{ram}ID") == "732829320"
    address = buyer.find(f"{ram}URIUniversalCommunication/{ram}URIID")
    assert (address.text, address.get("schemeID")) == ("732829320", "0225")
    # Without the framework code the French rules fail with their id.
    broken = xml.replace(b"<ram:ID>S2</ram:ID>", b"")
    assert "BR-FR-08_BT-23" in {f.rule for f in schematron_failures(broken, xslt=BR_FR_XSLT)}
