"""PDF/A-3b structure and the embedded Factur-X XML, checked with pypdf and factur-x."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree

from billingdesk.documents.models import Document
from billingdesk.documents.render.pdfwriter import LogoError, png_parse

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def _b2b_reverse_charge(drain_tasks) -> tuple[Document, object]:
    shop = shop_create("FR")
    charge = shop.pay(amount=5000, country="DE", name="Kunde GmbH")
    profile_set(
        charge.customer,
        company_name="Kunde GmbH",
        country="DE",
        city="Berlin",
        postcode="10115",
        address_line1="Invalidenstr. 1",
        tax_id="DE136695976",
    )
    drain_tasks()
    return Document.objects.get(charge=charge), shop


def test_pdfa3b_metadata_output_intent_and_embedded_fonts(drain_tasks):
    doc, _ = _b2b_reverse_charge(drain_tasks)
    data = bytes(doc.pdf)
    assert data.startswith(b"%PDF-1.7")
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", xmp)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", xmp)
    # Factur-X XMP extension schema (fx) with the EN 16931 level
    assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert "EN 16931" in xmp
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert len(intent["/DestOutputProfile"].get_object().get_data()) > 1000
    assert "/ID" in reader.trailer and "/Encrypt" not in reader.trailer
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
        assert descendant["/CIDToGIDMap"] == "/Identity"
        assert "/ToUnicode" in font
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data" and spec["/F"] == "factur-x.xml"


def test_facturx_xml_validates_against_the_shipped_schema(drain_tasks):
    doc, _ = _b2b_reverse_charge(drain_tasks)
    filename, xml = get_xml_from_pdf(bytes(doc.pdf), check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    tree = etree.fromstring(xml)
    assert tree.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=NS) == doc.number
    assert tree.findtext(".//ram:ApplicableTradeTax/ram:CategoryCode", namespaces=NS) == "AE"
    assert tree.findtext(".//ram:BuyerTradeParty//ram:ID", namespaces=NS) == "DE136695976"
    assert tree.findtext(".//ram:GrandTotalAmount", namespaces=NS) == "50.00"


def test_credit_note_xml_is_type_381_and_refers_to_the_invoice(drain_tasks):
    doc, shop = _b2b_reverse_charge(drain_tasks)
    shop.refund(doc.charge, 2000)
    drain_tasks()
    credit = Document.objects.get(kind="credit_note")
    _, xml = get_xml_from_pdf(bytes(credit.pdf), check_xsd=True)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    tree = etree.fromstring(xml)
    assert tree.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    assert (
        tree.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS)
        == doc.number
    )


def test_b2c_documents_carry_no_facturx(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    reader = pypdf.PdfReader(io.BytesIO(bytes(doc.pdf)))
    assert "/AF" not in reader.trailer["/Root"]
    assert (
        "<pdfaid:part>3</pdfaid:part>"
        in reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    )


def test_customer_text_cannot_inject_pdf_operators_or_fetch_anything(drain_tasks):
    shop = shop_create("DE")
    evil = "Evil) Tj ET BT /F1 99 Tf (x <</Type/Action/S/URI/URI(http://attacker.example)>> \\ 中文"
    charge = shop.pay(
        amount=1190,
        country="DE",
        name=evil,
        description="<img src='http://attacker.example/x.png'>",
    )
    drain_tasks()
    data = bytes(Document.objects.get(charge=charge).pdf)
    # text is written as glyph ids, so no customer byte reaches the PDF syntax
    assert b"attacker.example" not in data
    text = pdf_text(data)
    assert "http://attacker.example" in text  # printed as text, nothing more
    assert "??" in text  # characters outside the embedded fonts print as "?"


def test_logo_must_be_a_plain_png():
    with pytest.raises(LogoError, match="not a PNG"):
        png_parse(b"GIF89a...")


@pytest.mark.parametrize(
    ("title", "author"),
    [
        ('Rechnung <R&D> "x" 1', "Müller & Söhne <GmbH>"),
        ("Фактура F-1", "ελληνική εταιρεία"),
        ("", ""),
    ],
)
def test_the_cached_facturx_xmp_is_the_librarys_own(title: str, author: str) -> None:
    """The XMP is written once by the factur-x library and filled per document: the result
    must be what the library writes for that document (its render-time dates aside)."""
    from facturx.facturx import generate_xmp_bytes

    from billingdesk.documents.render.layout import _facturx_xmp

    dates = re.compile(rb"<xmp:(CreateDate|ModifyDate|MetadataDate)>[^<]*</xmp:\1>")
    library = generate_xmp_bytes(
        "factur-x", "en16931", None, {"title": title, "author": author, "subject": title}
    )
    assert dates.sub(b"", _facturx_xmp(title=title, author=author)) == dates.sub(b"", library)
