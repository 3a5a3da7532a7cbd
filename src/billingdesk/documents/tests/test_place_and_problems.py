"""India's place of supply follows the GSTIN, and a document that cannot be issued is never
dropped silently: finance sees it in the admin with the reason, and can retry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billingdesk.documents.models import Document, DocumentSeries, IssueProblem

from .conftest import pdf_text, profile_set, shop_create

pytestmark = pytest.mark.django_db

MAHARASHTRA_GSTIN = "27AAPFU0939F1ZV"


def test_a_maharashtra_gstin_with_a_karnataka_address_is_inter_state(drain_tasks):
    shop = shop_create("IN")  # the seller is in Karnataka (GSTIN 29…)
    charge = shop.pay(amount=118000, currency="INR", country="IN", name="Buyer Pvt Ltd")
    profile_set(charge.customer, country="IN", region="KA", tax_id=MAHARASHTRA_GSTIN)
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    assert doc.buyer["region"] == "MH"
    assert [(t["name"], t["amount"]) for t in doc.tax_lines] == [("IGST", 18000)]
    assert "Place of supply: Maharashtra (state code 27)" in pdf_text(bytes(doc.pdf))


def test_a_gstin_without_a_profile_state_still_gets_its_invoice(drain_tasks):
    shop = shop_create("IN")
    charge = shop.pay(amount=118000, currency="INR", country="IN")
    profile_set(charge.customer, country="IN", tax_id="29AAPFU0939F1ZR")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    assert [t["name"] for t in doc.tax_lines] == ["CGST", "SGST"]
    assert IssueProblem.objects.count() == 0


def test_an_indian_consumer_without_an_address_is_taxed_where_the_supplier_is(drain_tasks):
    shop = shop_create("IN")
    charge = shop.pay(amount=118000, currency="INR", country="IN")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    assert [t["name"] for t in doc.tax_lines] == ["CGST", "SGST"]
    assert "Place of supply: Karnataka (state code 29)" in pdf_text(bytes(doc.pdf))


def test_an_issue_that_cannot_be_made_is_listed_with_its_reason_and_retried(
    admin_client, drain_tasks
):
    shop = shop_create("FR")
    DocumentSeries.objects.filter(legal_entity=shop.entity, kind="credit_note").delete()
    charge = shop.pay(amount=12000, country="FR")
    drain_tasks()
    refund = shop.refund(charge, 4000)
    drain_tasks()
    assert not Document.objects.filter(kind="credit_note").exists()
    problem = IssueProblem.objects.get()
    assert problem.source_key == f"refund:{refund.pk}" and problem.refund_id == refund.pk
    assert "no credit note series" in problem.reason
    changelist = reverse("admin:documents_issueproblem_changelist")
    page = admin_client.get(changelist + "?state=open").content.decode()
    assert "no credit note series" in page and f"refund:{refund.pk}" in page
    # Finance adds the series and retries from the admin: the credit note is issued.
    DocumentSeries.objects.create(legal_entity=shop.entity, kind="credit_note", prefix="FC")
    response = admin_client.post(changelist, {"action": "retry", "_selected_action": [problem.pk]})
    assert response.status_code == 302
    drain_tasks()
    assert Document.objects.filter(kind="credit_note", refund=refund).exists()
    problem.refresh_from_db()
    assert problem.resolved_at is not None
    assert (
        f"refund:{refund.pk}" not in admin_client.get(changelist + "?state=open").content.decode()
    )


def test_indian_tax_invoice_is_signed_and_marked_original_for_recipient(drain_tasks):
    import io
    import sys
    from pathlib import Path

    import pypdf

    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "bench"))
    from invoice_pdf import png_logo

    shop = shop_create("IN")
    shop.entity.signature_png = png_logo(160, 60)
    shop.entity.save()
    charge = shop.pay(amount=118000, currency="INR", country="IN")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    text = pdf_text(bytes(doc.pdf))
    for phrase in ("ORIGINAL FOR RECIPIENT", "For Acme India Pvt Ltd", "Authorised signatory"):
        assert phrase in text
    page = pypdf.PdfReader(io.BytesIO(bytes(doc.pdf))).pages[0]
    images = page["/Resources"]["/XObject"]
    assert len(images) == 1  # the signature (this brand has no logo)
