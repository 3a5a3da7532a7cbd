"""The UK, Australian and Indian return boxes, from the documents each legal entity issued:
known figures per box (domestic, abroad, a credit note, a document in another currency),
recomputed straight from the documents, and exported as CSV and in the XLSX workbook."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from django.test import Client
from freezegun import freeze_time

from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import profile_set, shop_create
from billingdesk.panel.tests.factories import agent
from billingdesk.reports.selectors.returns import tax_returns

pytestmark = pytest.mark.django_db

Q1 = {"start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def shops(drain_tasks):
    gb, au, india = shop_create("GB"), shop_create("AU"), shop_create("IN")
    with freeze_time(datetime(2026, 2, 10, 9, tzinfo=UTC)):
        uk_sale = gb.pay(amount=12000, currency="GBP", country="GB")  # 100 + 20 % VAT
        gb.pay(amount=5050, currency="GBP", country="US")  # outside the scope of UK VAT
        gb.pay(amount=9900, currency="EUR", country="GB")  # not in pounds: not in the boxes
        au.pay(amount=11000, currency="AUD", country="AU")  # 100 + 10 % GST
        au.pay(amount=3000, currency="AUD", country="US")  # GST-free export
        intra = india.pay(amount=11800, currency="INR", country="IN")
        inter = india.pay(amount=11800, currency="INR", country="IN")
        india.pay(amount=5000, currency="INR", country="US")  # export under LUT
        profile_set(intra.customer, country="IN", region="KA", city="Mysuru")
        profile_set(inter.customer, country="IN", region="MH", city="Pune")
        drain_tasks()
    with freeze_time(datetime(2026, 3, 1, 9, tzinfo=UTC)):
        gb.refund(uk_sale, 1200)  # credit note: 10 + 2 VAT
        drain_tasks()
    assert Document.objects.count() == 9
    return gb, au, india


def _boxes(country):
    (found,) = [r for r in tax_returns(start=date(2026, 1, 1), end=date(2026, 3, 31))
                if r.country == country]  # fmt: skip
    return found, [(b.code, b.amount) for b in found.boxes]


def test_uk_vat_return_boxes(shops):
    found, boxes = _boxes("GB")
    assert found.currency == "GBP" and found.other_currencies == ["EUR"]
    assert boxes == [
        ("1", 2000 - 200), ("2", 0), ("3", 1800), ("4", None), ("5", None),
        ("6", 10000 + 5050 - 1000), ("7", None), ("8", 0), ("9", None),
    ]  # fmt: skip
    box6 = found.boxes[5]
    assert box6.whole_units and box6.shown_amount == 14000  # £140.50 entered as £140


def test_australian_bas_boxes(shops):
    found, boxes = _boxes("AU")
    assert found.other_currencies == []
    assert boxes == [("G1", 11000 + 3000), ("G2", 3000), ("G3", 0), ("1A", 1000), ("1B", None)]


def test_indian_gstr3b_table_counts_an_intra_state_base_once(shops):
    _found, boxes = _boxes("IN")
    assert boxes == [
        ("3.1(a)", 20000), ("3.1(a)", 1800), ("3.1(a)", 900), ("3.1(a)", 900),
        ("3.1(b)", 5000), ("3.1(b)", 0), ("3.1(c)", 0),
    ]  # fmt: skip


def test_boxes_agree_with_the_documents(shops):
    """Box 1, 1A and the GST total recomputed from each entity's documents directly."""
    tax = {"GB": 0, "AU": 0, "IN": 0}
    for doc in Document.objects.select_related("legal_entity"):
        country = doc.legal_entity.country
        if doc.currency != {"GB": "GBP", "AU": "AUD", "IN": "INR"}[country]:
            continue
        sign = -1 if doc.kind == "credit_note" else 1
        tax[country] += sign * doc.tax
    assert dict(_boxes("GB")[1])["1"] == tax["GB"]
    assert dict(_boxes("AU")[1])["1A"] == tax["AU"]
    gst = [amount for code, amount in _boxes("IN")[1][1:4]]
    assert sum(gst) == tax["IN"]


def test_a_period_with_no_documents_has_no_return(shops):
    assert tax_returns(start=date(2026, 6, 1), end=date(2026, 6, 30)) == []


def test_return_csv_and_page(shops):
    client = Client()
    client.force_login(agent("finance"))
    uk = next(r for r in tax_returns(start=date(2026, 1, 1), end=date(2026, 3, 31))
              if r.country == "GB")  # fmt: skip
    page = client.get("/reports/tax/", Q1)
    assert page.status_code == 200
    html = page.content.decode()
    assert "UK VAT return" in html and "GSTR-3B" in html and "Business activity statement" in html
    assert "Documents in EUR are not in these boxes" in html
    assert "within the state (CGST + SGST)" in html  # treatments in words, not codes
    response = client.get("/reports/tax.csv", {**Q1, "return": uk.entity_id})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["box", "label", "currency", "amount_minor", "amount", "note"]
    assert rows[1][:5] == ["1", "VAT due on sales and other outputs", "GBP", "1800", "18.00"]
    assert rows[6][:5][3:] == ["14000", "140.00"]  # box 6 in whole pounds
    assert rows[4][3] == ""  # box 4: purchases not known
    missing = client.get("/reports/tax.csv", {**Q1, "return": "999999"})
    assert missing.status_code == 404


def test_tax_workbook(shops):
    client = Client()
    client.force_login(agent("finance"))
    response = client.get("/reports/tax.xlsx", Q1)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    names = book.sheetnames
    assert names[:3] == ["Totals", "Tax lines", "OSS"]
    assert sum(name.startswith(("GB ", "AU ", "IN ")) for name in names) == 3
    totals = {row[0]: row for row in book["Totals"].iter_rows(min_row=2, values_only=True)}
    # GBP: 120 + 50.50 - 12; the amounts as numbers, in minor units exactly.
    assert totals["GBP"][3:6] == (10000 + 5050 - 1000, 2000 - 200, 12000 + 5050 - 1200)
    assert totals["GBP"][8] == pytest.approx(158.50)
    assert totals["INR"][5] == 11800 * 2 + 5000
    lines = list(book["Tax lines"].iter_rows(min_row=2, values_only=True))
    assert all(isinstance(row[6], int) for row in lines)
    bad = client.get("/reports/tax.xlsx", {"start": "2026-13-01", "end": "x"})
    assert bad.status_code == 400 and b"date" in bad.content.lower()


def test_workbook_text_is_never_a_formula():
    """Text that looks like a formula stays text; integers and amounts stay numbers."""
    from decimal import Decimal

    from billingdesk.reports.export import xlsx_response

    rows = [['=HYPERLINK("http://x")', 1234, Decimal("12.34"), Decimal("5"), None, True]]
    response = xlsx_response("t.xlsx", [("a/b:c[d]", ["t", "n", "eur", "jpy", "x", "b"], rows)])
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    (sheet,) = book.worksheets
    assert sheet.title == "a b c d "
    text, minor, eur, jpy, empty, flag = next(sheet.iter_rows(min_row=2))
    assert text.data_type == "s" and text.value.startswith("=HYPERLINK")
    assert minor.value == 1234 and minor.data_type == "n"
    assert eur.value == pytest.approx(12.34) and eur.number_format == "0.00"
    assert jpy.value == 5 and jpy.number_format == "0"
    assert empty.value in (None, "") and flag.value == "true"


def test_returns_in_the_agents_language(shops):
    client = Client()
    client.force_login(agent("finance"))
    french = client.get("/reports/tax/", {**Q1, "lang": "fr"}).content.decode()
    assert "Déclaration de TVA britannique" in french and "dans le même État" in french
    german = client.get("/reports/tax/", {**Q1, "lang": "de"}).content.decode()
    assert "Britische Umsatzsteuererklärung" in german and "Vorsteuer" in german
    spanish = client.get("/reports/tax/", {**Q1, "lang": "es"}).content.decode()
    assert "Declaración de IVA del Reino Unido" in spanish
