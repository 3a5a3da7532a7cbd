"""A backfill imports history without documenting it; payments after connecting are documented."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billingdesk.billing.models import Charge, Refund
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create

pytestmark = pytest.mark.django_db


def test_history_before_documents_from_gets_no_invoice_or_credit_note(drain_tasks) -> None:
    shop = shop_create("FR", language="fr")
    # The shop's helper dates payments 20 Nov 2026 and refunds 21 Nov 2026.
    shop.account.documents_from = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    shop.account.save(update_fields=["documents_from"])

    old = shop.pay(amount=5000, country="FR")
    shop.refund(old, 1000)  # the refund comes after documents_from, but corrects history
    drain_tasks()

    assert not Document.objects.filter(charge=old).exists()
    assert not Document.objects.filter(refund__in=Refund.objects.filter(charge=old)).exists()

    shop.account.documents_from = datetime(2026, 11, 1, tzinfo=UTC)
    shop.account.save(update_fields=["documents_from"])
    new = shop.pay(amount=5000, country="FR")
    drain_tasks()

    assert Document.objects.filter(charge=new).count() == 1
    assert Charge.objects.filter(documents__isnull=True).count() == 1  # only the old one
