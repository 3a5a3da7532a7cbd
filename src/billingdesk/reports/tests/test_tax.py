"""The tax summary comes from the issued documents and agrees with them to the cent: a test
recomputation over the documents themselves, known figures per regime (domestic, OSS,
reverse charge), and a credit note issued after the period's end left out of it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import profile_set, shop_create
from billingdesk.reports.selectors.tax import tax_summary

pytestmark = pytest.mark.django_db


def _recomputed(start: date, end: date):
    """Straight from the documents of the period: sign by kind, sum by country/rate."""
    lines: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for doc in Document.objects.all():
        if not (start <= doc.issued_at.date() <= end):
            continue
        sign = -1 if doc.kind == "credit_note" else 1
        for t in doc.tax_lines:
            key = (doc.tax_country, doc.treatment, doc.currency, t["name"], t["percent"])
            lines[key][0] += sign * t["taxable"]
            lines[key][1] += sign * t["amount"]
        totals[doc.currency][0] += sign * doc.net
        totals[doc.currency][1] += sign * doc.tax
        totals[doc.currency][2] += sign * doc.gross
    return {k: tuple(v) for k, v in lines.items()}, {k: tuple(v) for k, v in totals.items()}


@pytest.fixture
def documents(drain_tasks):
    shop = shop_create("FR")
    with freeze_time(datetime(2026, 3, 10, 9, tzinfo=UTC)):
        domestic = shop.pay(amount=12000, country="FR")
        shop.pay(amount=11900, country="DE")  # B2C in Germany: OSS at 19 %
        b2b = shop.pay(amount=5000, country="DE", name="Kunde GmbH")
        profile_set(
            b2b.customer, company_name="Kunde GmbH", country="DE", city="Berlin",
            postcode="10115", address_line1="Invalidenstr. 1", tax_id="DE136695976",
        )  # fmt: skip
        drain_tasks()
    with freeze_time(datetime(2026, 3, 20, 9, tzinfo=UTC)):
        shop.refund(domestic, 4000)
        drain_tasks()
    with freeze_time(datetime(2026, 4, 2, 9, tzinfo=UTC)):
        shop.refund(domestic, 2000)  # credited in the next quarter
        drain_tasks()
    assert Document.objects.count() == 5
    return shop


def test_quarter_summary_agrees_with_the_documents_to_the_cent(documents):
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    summary = tax_summary(start=start, end=end)
    lines, totals = _recomputed(start, end)
    assert {
        (t.tax_country, t.treatment, t.currency, t.name, t.percent): (t.taxable, t.tax)
        for t in summary.lines
    } == lines
    assert {t.currency: (t.net, t.tax, t.gross) for t in summary.totals} == totals
    by_regime = {(t.regime, t.tax_country): (t.taxable, t.tax) for t in summary.lines}
    # 120 € incl. 20 % less a 40 € credit note (33,33 € + 6,67 €).
    assert by_regime[("domestic", "FR")] == (10000 - 3333, 2000 - 667)
    assert by_regime[("oss", "DE")] == (10000, 1900)
    assert by_regime[("reverse_charge", "DE")] == (5000, 0)
    assert [(t.tax_country, t.percent, t.tax) for t in summary.oss()] == [("DE", "19", 1900)]
    assert summary.totals[0].credit_notes == 1 and summary.totals[0].documents == 3


def test_the_next_quarter_holds_only_its_credit_note(documents):
    summary = tax_summary(start=date(2026, 4, 1), end=date(2026, 6, 30))
    assert [(t.tax_country, t.taxable, t.tax, t.credit_notes) for t in summary.lines] == [
        ("FR", -1667, -333, 1)
    ]
    assert [(t.net, t.tax, t.gross) for t in summary.totals] == [(-1667, -333, -2000)]
