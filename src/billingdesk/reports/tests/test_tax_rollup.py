"""The tax rollup each issued document is added to equals a rebuild from the documents, in
UTC and in a time zone where a document lands on another day; and the summary read from it
equals a summary recomputed from the documents themselves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.reports.models import DocumentDay, TaxDay
from billingdesk.reports.taxdays import tax_days_rebuild

pytestmark = pytest.mark.django_db

COLUMNS = {
    TaxDay: ("day", "legal_entity_id", "tax_country", "treatment", "currency", "name",
             "percent", "taxable", "tax", "documents", "credit_notes"),
    DocumentDay: ("day", "legal_entity_id", "currency", "net", "tax", "gross", "documents",
                  "credit_notes"),
}  # fmt: skip


def _snapshot():
    return {model: sorted(model.objects.values_list(*cols)) for model, cols in COLUMNS.items()}


def _random_documents(drain_tasks, rng):
    fr, gb = shop_create("FR"), shop_create("GB")
    start = datetime(2026, 3, 30, 21, tzinfo=UTC)  # around a month and a quarter's end
    for i in range(24):
        shop = rng.choice([fr, gb])
        at = start + timedelta(hours=rng.randrange(0, 72))
        with freeze_time(at):
            country = rng.choice(["FR", "DE", "GB", "US", "ES"])
            sale = shop.pay(amount=rng.randrange(500, 50000), country=country,
                            currency="GBP" if shop is gb else "EUR")  # fmt: skip
            drain_tasks()
        if i % 3 == 0:
            with freeze_time(at + timedelta(hours=rng.randrange(1, 30))):
                shop.refund(sale, rng.randrange(100, 400))
                drain_tasks()
    assert Document.objects.count() > 24


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_incremental_rollup_equals_a_rebuild(drain_tasks, zone):
    with override_settings(TIME_ZONE=zone):
        timezone.activate(zone)
        try:
            _random_documents(drain_tasks, random.Random(zone))
            incremental = _snapshot()
            assert incremental[TaxDay] and incremental[DocumentDay]
            tax_days_rebuild()
            assert _snapshot() == incremental
        finally:
            timezone.deactivate()


def test_the_rebuild_is_what_the_rollup_would_have_been(drain_tasks):
    _random_documents(drain_tasks, random.Random(7))
    incremental = _snapshot()
    TaxDay.objects.all().delete()
    DocumentDay.objects.all().delete()
    tax_days_rebuild()
    assert _snapshot() == incremental
    # Net per day, straight from the documents (credit notes negative).
    net: dict[tuple, int] = {}
    for doc in Document.objects.all():
        key = (timezone.localtime(doc.issued_at).date(), doc.legal_entity_id, doc.currency)
        net[key] = net.get(key, 0) + (-doc.net if doc.kind == "credit_note" else doc.net)
    assert {(d, e, c): n for d, e, c, n, *_ in incremental[DocumentDay]} == net
