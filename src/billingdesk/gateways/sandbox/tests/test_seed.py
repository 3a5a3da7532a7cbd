"""The demo seed: two accounts, history of every kind, backfilled, and never seeded twice."""

from __future__ import annotations

from io import StringIO

import pytest
from django.db.models import Count

from billingdesk.billing.models import (
    Charge,
    Customer,
    Dispute,
    Person,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.sandbox.models import SandboxEvent, SandboxObject
from billingdesk.gateways.sandbox.seed import demo_seed
from billingdesk.gateways.sync import account_backfill

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "sandbox": SandboxObject.objects.count(),
        "events": SandboxEvent.objects.count(),
        "customers": Customer.objects.count(),
        "charges": Charge.objects.count(),
        "persons": Person.objects.count(),
        "runs": SyncRun.objects.count(),
    }


def test_demo_seed_creates_backfilled_history_once() -> None:
    out = StringIO()
    accounts = demo_seed(persons=60, stdout=out, backfill=account_backfill)

    assert [a.name for a in accounts] == ["EU store", "US SaaS"]
    assert [a.default_currency for a in accounts] == ["EUR", "USD"]
    eu, us = accounts
    assert set(Charge.objects.filter(account=eu).values_list("currency", flat=True)) == {"EUR"}
    assert set(Charge.objects.filter(account=us).values_list("currency", flat=True)) == {"USD"}
    # The mirror holds exactly what the sandbox holds.
    for account in accounts:
        assert (
            Charge.objects.filter(account=account).count()
            == SandboxObject.objects.filter(account=account, kind="charge").count()
        )
    assert Person.objects.count() == 60
    both = Person.objects.annotate(n=Count("customers__account", distinct=True)).filter(n=2)
    assert both.exists()
    assert set(Customer.objects.values_list("match_method", flat=True)) >= {"new", "email", "phone"}
    statuses = set(Charge.objects.values_list("status", flat=True))
    assert {"captured", "failed", "refunded", "partially_refunded", "disputed"} <= statuses
    assert Refund.objects.exists() and Dispute.objects.exists()
    assert TaxId.objects.filter(account=eu, tax_type="eu_vat").exists()
    assert Subscription.objects.filter(account=us).exists()
    assert not SandboxEvent.objects.exclude(delivery=SandboxEvent.Delivery.OFF).exists()
    assert "backfilled" in out.getvalue()
    first = _counts()

    again = demo_seed(persons=60, backfill=account_backfill)

    assert [a.pk for a in again] == [a.pk for a in accounts]
    assert _counts() == first
    assert GatewayAccount.objects.count() == 2


def test_seed_is_deterministic_in_what_it_invents() -> None:
    demo_seed(persons=20, seed=7)
    amounts = sorted(Charge.objects.values_list("amount", flat=True))
    names = sorted(Customer.objects.values_list("name", flat=True))
    GatewayAccount.objects.all().delete()  # with everything the sandbox and mirror held
    demo_seed(persons=20, seed=7)

    assert sorted(Charge.objects.values_list("amount", flat=True)) == amounts
    assert sorted(Customer.objects.values_list("name", flat=True)) == names
