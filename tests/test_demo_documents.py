"""The demo's seeded history comes with its documents (issue 20, item 21): receipts,
invoices with Factur-X for customers with a VAT number, credit notes for refunds; made-up
VAT numbers pass their checksums so that those customers are businesses."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from billingdesk.documents.demo import demo_history_documents
from billingdesk.documents.models import Document
from billingdesk.documents.taxids import tax_id_check
from billingdesk.documents.tests.conftest import profile_set, shop_create
from billingdesk.gateways.sandbox.seed.people import EU_COUNTRIES, vat_number


@pytest.mark.parametrize("country", EU_COUNTRIES)
def test_made_up_vat_numbers_pass_their_checksum(country: str) -> None:
    draw = random.Random(7)
    for _ in range(5):
        value = vat_number(draw, country)
        assert tax_id_check(country=country, value=value).valid, value


def test_the_history_gets_receipts_invoices_and_credit_notes_without_email(db: None) -> None:
    shop = shop_create("FR")
    plain = shop.pay(amount=1200, country="FR")
    business = shop.pay(amount=12000, country="DE")
    assert business.customer is not None
    profile_set(business.customer, tax_id=vat_number(random.Random(3), "DE"), country="DE")
    shop.refund(plain, 500)
    # (The mirror queued the documents' issue after commit: a test never commits, so here
    # only what demo_history_documents does itself is issued.)
    waiting = len(connection.run_on_commit)

    issued = demo_history_documents()

    kinds = {
        (doc.charge_id, doc.kind, doc.has_facturx)
        for doc in Document.objects.filter(charge__in=[plain, business])
    }
    # A consumer's payment: the brand's B2C document (this shop issues invoices to all).
    assert kinds == {
        (plain.pk, shop.brand.b2c_document, False),
        (plain.pk, "credit_note", False),
        (business.pk, "invoice", True),
    }
    assert issued == 3
    assert len(connection.run_on_commit) == waiting  # nothing queued to be emailed
    assert demo_history_documents() == 3  # issued once
