"""Credit notes and re-issues add up: what is credited never exceeds what was invoiced, the
last credit note absorbs the rounding, and a credit note keeps the original date of supply."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings
from facturx import get_xml_from_pdf
from lxml import etree

from billingdesk.documents.models import Document

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def _credits(invoice: Document) -> list[Document]:
    return list(Document.objects.filter(original=invoice, kind="credit_note").order_by("id"))


def test_partial_credit_notes_net_to_zero_exactly(drain_tasks):
    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country="FR")
    drain_tasks()
    invoice = Document.objects.get(charge=charge)
    assert (invoice.net, invoice.tax) == (10000, 2000)
    for _ in range(3):
        shop.refund(charge, 4000)
        drain_tasks()
    notes = _credits(invoice)
    assert [n.gross for n in notes] == [4000, 4000, 4000]
    # 40 € incl. 20 % contains 6,67 €: the third note takes 6,66 € so the VAT nets to zero.
    assert [n.tax for n in notes] == [667, 667, 666]
    assert sum(n.net for n in notes) == invoice.net
    assert sum(n.tax_lines[0]["amount"] for n in notes) == invoice.tax_lines[0]["amount"]
    last = notes[-1]
    assert last.lines[0]["net"] == last.net == last.tax_lines[0]["taxable"] == 3334
    assert last.net + last.tax == last.gross


def test_india_last_credit_note_absorbs_each_component(drain_tasks):
    shop = shop_create("IN")
    charge = shop.pay(amount=1000, currency="INR", country="IN")
    profile_set(charge.customer, country="IN", region="KA")
    drain_tasks()
    invoice = Document.objects.get(charge=charge)
    for _ in range(3):
        shop.refund(charge, 333 if _ < 2 else 334)
        drain_tasks()
    notes = _credits(invoice)
    for name in ("CGST", "SGST"):
        credited = sum(t["amount"] for n in notes for t in n.tax_lines if t["name"] == name)
        assert credited == next(t["amount"] for t in invoice.tax_lines if t["name"] == name)


def test_a_refund_never_credits_more_than_remains(drain_tasks):
    shop = shop_create("FR")
    charge = shop.pay(amount=12000, country="FR")
    drain_tasks()
    shop.refund(charge, 10000)
    shop.refund(charge, 10000)  # the gateway would not allow it; the documents refuse too
    drain_tasks()
    invoice = Document.objects.get(charge=charge, kind="invoice")
    assert sum(n.gross for n in _credits(invoice)) == 12000


def test_credit_note_keeps_the_original_date_of_supply_in_pdf_and_xml(drain_tasks):
    shop = shop_create("FR", language="fr")
    charge = shop.pay(amount=12000, country="DE", name="Kunde GmbH")
    profile_set(charge.customer, company_name="Kunde GmbH", country="DE", tax_id="DE136695976")
    drain_tasks()
    shop.refund(charge, 2000)  # refunded on 21 November, a day after the supply
    drain_tasks()
    credit = Document.objects.get(kind="credit_note")
    assert credit.supply_date == date(2026, 11, 20) == credit.original.supply_date
    assert "20 novembre 2026" in pdf_text(bytes(credit.pdf))
    _, xml = get_xml_from_pdf(bytes(credit.pdf))
    bt72 = etree.fromstring(xml).findtext(
        ".//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString", namespaces=NS
    )
    assert bt72 == "20261120"


def _oss_sale_refunded_then_vat_id(shop, drain_tasks):
    charge = shop.pay(amount=12000, country="DE")
    drain_tasks()
    first = Document.objects.get(charge=charge)
    assert (first.treatment, first.tax) == ("oss", 1916)  # 19 % contained in 120 €
    shop.refund(charge, 4000)
    drain_tasks()
    shop.add_tax_id(charge.customer, "DE136695976", "DE")
    drain_tasks()
    return charge, first


def test_reissue_after_partial_refund_credits_only_the_rest_and_keeps_the_gross(drain_tasks):
    shop = shop_create("FR")
    charge, first = _oss_sale_refunded_then_vat_id(shop, drain_tasks)
    notes = _credits(first)
    # 40 € for the refund, then the remaining 80 € for the re-issue: 120 € in all.
    assert [n.gross for n in notes] == [4000, 8000]
    assert sum(n.net for n in notes) == first.net and sum(n.tax for n in notes) == first.tax
    new = Document.objects.get(source_key=f"reissue:{first.pk}")
    # Default policy keep_gross: the 80 € kept are re-invoiced, reverse-charged.
    assert (new.treatment, new.net, new.tax, new.gross) == ("reverse_charge", 8000, 0, 8000)
    # A later refund credits the replacement, never beyond it.
    shop.refund(charge, 8000)
    drain_tasks()
    assert [n.gross for n in _credits(new)] == [8000]


@override_settings(BILLINGDESK_REISSUE_PRICE_POLICY="keep_net")
def test_keep_net_policy_reinvoices_the_net_and_the_vat_refund_credits_nothing(drain_tasks):
    shop = shop_create("FR")
    charge, first = _oss_sale_refunded_then_vat_id(shop, drain_tasks)
    kept_net = first.net - _credits(first)[0].net
    new = Document.objects.get(source_key=f"reissue:{first.pk}")
    assert (new.treatment, new.net, new.tax, new.gross) == ("reverse_charge", kept_net, 0, kept_net)
    # Finance refunds the VAT difference: no credit note, the replacement stays in force.
    shop.refund(charge, 8000 - kept_net)
    drain_tasks()
    assert _credits(new) == []
    # The rest of the money is refunded later: that is credited.
    shop.refund(charge, kept_net)
    drain_tasks()
    assert [n.gross for n in _credits(new)] == [kept_net]
