"""Invoice status across gateways: counts and amounts per status and currency, open invoices
past due in age buckets, the list of one status with links, as a page and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.panel.tests.factories import agent
from billingdesk.reports.selectors.invoices import invoice_status_summary

from .builders import account

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _invoice(gid, status, total, due, currency="EUR", days_due=None):
    return gw.GwInvoice(
        id=gid, created=NOW - timedelta(days=100), updated=NOW, customer_id=None,
        status=gw.InvoiceStatus(status), currency=currency, number=gid.upper(), total=total,
        amount_due=due, due_date=None if days_due is None else NOW - timedelta(days=days_due),
        hosted_url="https://pay.example/" + gid,
    )  # fmt: skip


@pytest.fixture
def invoices():
    eu, us = account("EU"), account("US")
    mirror_upsert(account=eu, objects=[
        _invoice("in_paid", "paid", 1000, 0),
        _invoice("in_late5", "open", 2000, 2000, days_due=5),
        _invoice("in_late45", "open", 3000, 3000, days_due=45),
        _invoice("in_late200", "open", 4000, 4000, days_due=200),
        _invoice("in_notyet", "open", 500, 500, days_due=-10),
        _invoice("in_void", "void", 700, 0),
        _invoice("in_draft", "draft", 900, 900),
    ])  # fmt: skip
    mirror_upsert(account=us, objects=[
        _invoice("in_us_late", "open", 1500, 1500, "USD", days_due=70),
        _invoice("in_us_bad", "uncollectible", 800, 800, "USD"),
    ])  # fmt: skip


def test_status_summary_and_age_buckets(invoices):
    lines, ages = invoice_status_summary()
    assert {(s.status, s.currency): (s.invoices, s.total, s.amount_due) for s in lines} == {
        ("paid", "EUR"): (1, 1000, 0),
        ("open", "EUR"): (4, 9500, 9500),
        ("void", "EUR"): (1, 700, 0),
        ("open", "USD"): (1, 1500, 1500),
        ("uncollectible", "USD"): (1, 800, 800),
    }  # drafts are not invoices yet
    assert [(a.currency, a.first_day, a.invoices, a.amount_due) for a in ages] == [
        ("EUR", 1, 1, 2000),
        ("EUR", 31, 1, 3000),
        ("EUR", 91, 1, 4000),
        ("USD", 61, 1, 1500),
    ]


def test_the_overdue_list_page_and_csv(invoices):
    client = Client()
    client.force_login(agent("finance"))
    page = client.get("/reports/invoices/?status=overdue").content.decode()
    for gid in ("IN_LATE5", "IN_LATE45", "IN_LATE200", "IN_US_LATE"):
        assert gid in page
    assert "IN_NOTYET" not in page and "https://pay.example/in_late5" in page
    body = b"".join(client.get("/reports/invoices/?status=void&format=csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode()[1:])))
    assert [(r["number"], r["total"], r["currency"]) for r in rows] == [("IN_VOID", "7.00", "EUR")]
    assert client.get("/reports/invoices/?status=late").status_code == 400
