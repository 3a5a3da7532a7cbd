"""The Factur-X XML from a compiled template is, byte for byte, the factur-x library's.

(Every document the other tests of this package issue is compared too, by the autouse
``every_facturx_passes_en16931`` fixture.) These build the library's input directly, without
the database, so that the shapes and the texts can be chosen: hostile characters, many
lines, another currency, credit notes, values the template must leave to the library.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest
from facturx import generate_xml

from billingdesk.documents.demo import FRENCH_ENTITY
from billingdesk.documents.models import Document, DocumentSeries, LegalEntity
from billingdesk.documents.render import cii_template
from billingdesk.documents.render.cii_template import cii_xml
from billingdesk.documents.render.facturx import facturx_data, facturx_xml
from billingdesk.documents.services import seller_snapshot, tax_fields
from billingdesk.documents.tax import LineIn, Party, compute


def _document(
    *,
    buyer_name: str = "Kunde GmbH",
    buyer_country: str = "DE",
    lines: tuple[tuple[str, int], ...] = (("Pro plan", 45000), ("Storage", 5000)),
    number: str = "F2026-000123",
    kind: str = "invoice",
    original: Document | None = None,
    street: str = "Invalidenstraße 1",
    vat_accounting: dict[str, Any] | None = None,
    currency: str = "EUR",
) -> Document:
    entity = LegalEntity(name="Acme France", **FRENCH_ENTITY)
    result = compute(
        seller=Party("FR"),
        buyer=Party(buyer_country, is_business=True),
        lines=[LineIn(text, amount) for text, amount in lines],
        on=date(2026, 11, 20),
        prices_include_tax=False,
    )
    return Document(
        kind=kind,
        series=DocumentSeries(legal_entity=entity, kind=kind, prefix="F"),
        number=number,
        issued_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        supply_date=date(2026, 11, 20),
        source_key="t",
        legal_entity=entity,
        seller=seller_snapshot(entity),
        buyer={
            "name": buyer_name,
            "email": "compta@client.example",
            "address_lines": [street, ""],
            "postcode": "10115",
            "city": "Berlin",
            "country": buyer_country,
            "tax_id": "DE136695976" if buyer_country == "DE" else "FR44732829320",
            "is_business": True,
        },
        **tax_fields(result),
        currency=currency,
        net=result.net,
        tax=result.tax,
        gross=result.gross,
        language="de",
        original=original,
        vat_accounting=vat_accounting,
    )


def _library(document: Document) -> bytes:
    xml: bytes = generate_xml(
        facturx_data(document), level="en16931", check_xsd=False, check_schematron=False
    )
    return xml


@pytest.fixture(autouse=True)
def no_templates(monkeypatch):
    monkeypatch.setattr(cii_template, "_templates", type(cii_template._templates)())


HOSTILE = [
    "Müller & Söhne <GmbH>",
    "A \"quoted\" 'name' > 5 % — €",
    "Ζαχαρίας Ωμέγα ΑΕ · Иван & Co",  # noqa: RUF001 - Greek letters are the point
    "emoji 😀 and CJK 漢字",
    "ends with an ampersand &",
    "&amp; already escaped &lt;",
    "tab\tand\nnewline",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_texts_are_escaped_as_the_library_does(name):
    first = _document()
    assert facturx_xml(first) == _library(first)
    document = _document(buyer_name=name, street=name, lines=((name, 1000), ("x", 1)))
    assert facturx_xml(document) == _library(document)
    # Both documents have one shape: the second came from the first one's template.
    assert len(cii_template._templates) == 1
    assert next(iter(cii_template._templates.values())) is not None


def test_each_shape_has_its_template_and_every_one_matches_the_library():
    invoice = _document()
    documents = [
        invoice,
        _document(number="F2026-000124", buyer_name="Autre Kunde AG"),  # same shape
        _document(lines=tuple((f"Line {i}", 100 * i + 7) for i in range(1, 12))),
        _document(buyer_country="FR"),  # domestic 20 %: no exemption reason
        _document(kind="credit_note", number="FC2026-1", original=invoice),
        _document(
            currency="USD",
            vat_accounting={"currency": "EUR", "tax": 1234, "rate": "1.0842", "on": "2026-11-20"},
        ),
    ]
    for document in documents:
        assert facturx_xml(document) == _library(document)
        assert facturx_xml(document) == _library(document)  # from the template
    assert len(cii_template._templates) == 5
    assert all(parts is not None for parts in cii_template._templates.values())


def test_values_a_template_cannot_write_go_through_the_library():
    assert facturx_xml(_document()) == _library(_document())
    # lxml writes a carriage return as &#13;: left to the library, same output.
    document = _document(buyer_name="Line one\r\nLine two")
    assert b"&#13;" in facturx_xml(document)
    assert facturx_xml(document) == _library(document)
    # A control character: the library refuses it, and so does facturx_xml.
    with pytest.raises(ValueError, match="XML compatible"):
        facturx_xml(_document(buyer_name="bell \x07"))
    # A date given as a string is parsed by the library.
    data = facturx_data(_document())
    data["BT-72"] = "2026-11-20"
    assert cii_xml(copy.deepcopy(data)) == generate_xml(
        data, level="en16931", check_xsd=False, check_schematron=False
    )


def test_a_shape_the_library_writes_differently_per_value_gets_no_template(monkeypatch):
    """Were the library's structure to depend on a free text, the template would be wrong:
    it is checked against the library's own output before it is kept."""
    real = cii_template.generate_xml

    def value_dependent(data: dict[str, Any], **kwargs: Any) -> bytes:
        xml: bytes = real(data, **kwargs)
        long_name = len(data["BG-7"]["name"]) > 12  # the sentinels are 12 characters
        return xml + (b"<!-- long -->" if long_name else b"")

    monkeypatch.setattr(cii_template, "generate_xml", value_dependent)
    document = _document(buyer_name="A rather long buyer name")
    expected = value_dependent(
        facturx_data(document), level="en16931", check_xsd=False, check_schematron=False
    )
    assert facturx_xml(document) == expected
    assert list(cii_template._templates.values()) == [None]
    assert facturx_xml(document) == expected  # and again, from the library


def test_the_templates_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(cii_template, "_KEPT", 3)
    for count in range(1, 7):
        document = _document(lines=tuple((f"L{i}", 100 + i) for i in range(count)))
        assert facturx_xml(document) == _library(document)
    assert len(cii_template._templates) == 3


def test_xsd_check_still_runs_on_the_template_output():
    document = _document()
    assert facturx_xml(document, check_xsd=True) == _library(document)
