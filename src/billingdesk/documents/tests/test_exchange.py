"""Art. 230 of the VAT directive: an EU seller's document in another currency also states the
VAT in the national currency, at a dated ECB reference rate loaded from a file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from facturx import get_xml_from_pdf
from lxml import etree

from billingdesk.documents.exchange import vat_in_national_currency
from billingdesk.documents.models import Document, ExchangeRate, IssueProblem

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


@pytest.fixture
def ecb_rates():
    call_command("documents_load_rates", "--sample")


def test_the_command_loads_dated_rates_and_reloading_replaces_them(tmp_path, ecb_rates):
    assert ExchangeRate.objects.get(currency="USD", day=date(2026, 11, 20)).per_eur == Decimal(
        "1.0842"
    )
    path = tmp_path / "eurofxref.csv"
    path.write_text("Date, USD, JPY,\n2026-11-20, 1.0900, N/A,\n")
    call_command("documents_load_rates", str(path))
    assert ExchangeRate.objects.get(currency="USD", day=date(2026, 11, 20)).per_eur == Decimal(
        "1.09"
    )
    assert ExchangeRate.objects.filter(day=date(2026, 11, 19)).count() == 15


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("Currency,USD\n", "first column must be Date"),
        ("Date,USD\n20/11/2026,1.08\n", "line 2"),
        ("Date,USD\n2026-11-20,abc\n", "USD rate 'abc' is not a number"),
    ],
)
def test_a_bad_rates_file_exits_2_with_the_reason(tmp_path, content, message):
    path = tmp_path / "rates.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message) as info:
        call_command("documents_load_rates", str(path))
    assert info.value.returncode == 2
    with pytest.raises(CommandError, match="cannot read") as info:
        call_command("documents_load_rates", str(tmp_path / "missing.csv"))
    assert info.value.returncode == 2


def test_cross_rate_to_a_non_euro_national_currency(ecb_rates):
    converted = vat_in_national_currency(
        seller_country="PL", currency="USD", tax=2000, on=date(2026, 11, 21)
    )
    assert converted is not None
    # 20 USD x 4.3125 / 1.0842 = 79.5517 PLN, at the latest rate on or before the day.
    assert (converted.currency, converted.tax, converted.rate_date) == (
        "PLN",
        7955,
        date(2026, 11, 20),
    )
    assert (
        vat_in_national_currency(
            seller_country="FR", currency="EUR", tax=2000, on=date(2026, 11, 21)
        )
        is None
    )
    assert (
        vat_in_national_currency(
            seller_country="GB", currency="USD", tax=2000, on=date(2026, 11, 21)
        )
        is None
    )


def test_a_usd_invoice_of_a_french_seller_states_the_vat_in_euro(drain_tasks, ecb_rates):
    shop = shop_create("FR")
    charge = shop.pay(amount=12000, currency="USD", country="FR", name="Client SARL")
    profile_set(
        charge.customer,
        company_name="Client SARL",
        country="FR",
        city="Lyon",
        postcode="69001",
        address_line1="2 quai du Rhône",
        tax_id="FR44732829320",
    )
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    assert doc.tax == 2000
    # 20.00 USD / 1.0842 = 18.4468 EUR
    assert doc.vat_accounting == {
        "currency": "EUR",
        "tax": 1845,
        "rate": "0.922339",
        "rate_date": "2026-11-20",
        "source": "ECB",
        "from": "USD",
    }
    text = pdf_text(bytes(doc.pdf))
    assert (
        "VAT in EUR: €18.45 (1 USD = 0.922339 EUR, ECB reference rate of 20 November 2026)" in text
    )
    _, xml = get_xml_from_pdf(bytes(doc.pdf))
    tree = etree.fromstring(xml)
    assert tree.findtext(f".//{{{RAM}}}TaxCurrencyCode") == "EUR"
    amounts = {e.get("currencyID"): e.text for e in tree.iter(f"{{{RAM}}}TaxTotalAmount")}
    assert amounts == {"USD": "20.00", "EUR": "18.45"}


def test_without_a_rate_the_issue_waits_visibly(drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=11900, currency="USD", country="DE")
    drain_tasks()
    assert not Document.objects.filter(charge=charge).exists()
    assert "no reference rate for USD" in IssueProblem.objects.get().reason
