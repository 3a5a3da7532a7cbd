# ruff: noqa: RUF001  (Greek and Cyrillic letters are the point of these tests)
"""Fonts: every character of Bulgarian, Greek and Polish customers prints (never "?"), each
document embeds a tagged subset of the glyphs it uses (plus ASCII), with XMP fit for PDF/A, and a
one-page invoice stays small."""

from __future__ import annotations

import io
import re
import zlib

import pypdf
import pytest
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from billingdesk.documents.models import Document

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

CUSTOMERS = {
    "BG": ("Иван Петров ЕООД", "ул. „Шипка“ 34", "София", "BG175074752"),
    "GR": ("Γιώργος Παπαδόπουλος Α.Ε.", "Οδός Ερμού 12", "Αθήνα", "EL094259216"),
    "PL": ("Zażółć Gęślą Jaźń Sp. z o.o.", "ul. Świętokrzyska 11", "Łódź", "PL5260250274"),
}


def _document(drain_tasks, country: str) -> Document:
    name, street, city, vat = CUSTOMERS[country]
    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country=country, name=name, description=f"Abonnement — {name}")
    profile_set(
        charge.customer,
        company_name=name,
        address_line1=street,
        city=city,
        country="GR" if country == "GR" else country,
        tax_id=vat,
    )
    drain_tasks()
    return Document.objects.get(charge=charge)


def _fonts(data: bytes) -> list[tuple[str, TTFont, str]]:
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    out = []
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object()
        out.append(
            (str(font["/BaseFont"]), TTFont(io.BytesIO(program.get_data())), str(descendant["/W"]))
        )
    return out


@pytest.mark.parametrize("country", sorted(CUSTOMERS))
def test_every_letter_of_the_customer_prints(drain_tasks, country):
    doc = _document(drain_tasks, country)
    text = pdf_text(bytes(doc.pdf))
    for value in CUSTOMERS[country][:3]:
        assert value in text, value
    assert "?" not in text


@pytest.mark.parametrize("country", sorted(CUSTOMERS))
def test_fonts_are_tagged_subsets_with_every_glyph_drawn(drain_tasks, country):
    doc = _document(drain_tasks, country)
    name = CUSTOMERS[country][0]
    for base, font, _w in _fonts(bytes(doc.pdf)):
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(-Bold)?", base), base
        glyphs = font.getGlyphSet()
        drawn = set()
        for glyph in font.getGlyphOrder():
            pen = RecordingPen()
            glyphs[glyph].draw(pen)
            if pen.value:
                drawn.add(glyph)
        # A subset: a few dozen outlines, not the font's thousands.
        assert 10 < len(drawn) < 200
    regular = next(f for b, f, _ in _fonts(bytes(doc.pdf)) if b.endswith("+DejaVuSans"))
    assert len(regular.getGlyphOrder()) > 600  # glyph ids kept: the page needs no re-encoding
    assert name.split()[0] in pdf_text(bytes(doc.pdf))


def test_xmp_is_fit_for_pdfa(drain_tasks):
    doc = _document(drain_tasks, "PL")
    assert doc.has_facturx
    reader = pypdf.PdfReader(io.BytesIO(bytes(doc.pdf)))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<rdf:Description>" not in xmp
    assert xmp.count('rdf:about=""') == xmp.count("<rdf:Description")
    assert "<pdf:Producer>billingdesk</pdf:Producer>" in xmp
    stamp = doc.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"<xmp:CreateDate>{stamp}</xmp:CreateDate>" in xmp


def test_a_one_page_invoice_with_facturx_is_under_40_kb(drain_tasks):
    doc = _document(drain_tasks, "PL")
    assert len(bytes(doc.pdf)) <= 40 * 1024


def test_documents_with_the_same_glyphs_share_one_font_program(monkeypatch):
    """A face's subsets are remembered per glyph set (bounded); printable ASCII is always in
    them, so names and amounts in plain Latin letters do not make a new program."""
    from billingdesk.documents.render import truetype
    from billingdesk.documents.render.layout import fonts

    regular, _bold = fonts()
    regular.programs.clear()
    first = truetype.font_objects(regular, set("Invoice for Jane Buyer 120.00"))
    again = truetype.font_objects(regular, set("Rechnung an John Smith 99,50"))
    assert again is first
    tag, program, length, w_array, _ = first
    face = TTFont(io.BytesIO(zlib.decompress(program)))
    assert len(face.getGlyphOrder()) > 600 and length == len(zlib.decompress(program))
    assert f"{regular.gid_of['Q']} [" in w_array  # ASCII is in, even undrawn
    accented = truetype.font_objects(regular, set("Rechnung an Jürgen"))
    assert accented is not first and accented[0] != tag
    assert f"{regular.gid_of['ü']} [" in accented[3]
    monkeypatch.setattr(truetype, "_PROGRAMS_KEPT", 2)
    truetype.font_objects(regular, set("Łódź"))
    assert len(regular.programs) == 2
    assert truetype._BASE_CHARS not in regular.programs  # the oldest (all-ASCII) set is out
    assert frozenset("Łódź") | truetype._BASE_CHARS in regular.programs
