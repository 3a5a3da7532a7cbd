"""The gateway-neutral backfill: paginated, resumable after a crash, re-runnable."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models

from billingdesk.billing import models as m
from billingdesk.billing.signals import mirror_changed
from billingdesk.gateways.interface import ObjectKind
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start
from tests.gateways.conftest import build_history

MIRROR = [
    m.Customer,
    m.PaymentMethod,
    m.Charge,
    m.Refund,
    m.Subscription,
    m.Invoice,
    m.Coupon,
    m.Discount,
    m.TaxId,
    m.Dispute,
]


def snapshot() -> dict[str, Any]:
    """Everything the mirror says, with row ids replaced by gateway ids so runs compare."""
    out: dict[str, Any] = {}
    for model in MIRROR:
        rows = set()
        for row in model.objects.all():
            values = []
            for field in model._meta.concrete_fields:
                if field.name in {"id", "synced_at", "account", "person"}:
                    continue
                value = getattr(row, field.name)
                if isinstance(field, models.ForeignKey):
                    value = value.gateway_id if value is not None else None
                values.append((field.name, repr(value)))
            rows.add(tuple(values))
        out[model.__name__] = rows
    out["persons"] = {
        frozenset(p.customers.values_list("gateway_id", flat=True)) for p in m.Person.objects.all()
    }
    return out


def wipe_mirror() -> None:
    for model in MIRROR:
        model.objects.all().delete()
    m.Person.objects.all().delete()
    SyncRun.objects.all().delete()


@pytest.mark.django_db
def test_backfill_fills_the_mirror_with_links_resolved(memory_account: GatewayAccount) -> None:
    build_history(memory_account, customers=30, charges_each=4)

    run = account_backfill(account=memory_account)

    assert run.status == SyncRun.Status.DONE
    assert run.counts[ObjectKind.CHARGE] == 120
    assert m.Charge.objects.count() == 120
    charge = m.Charge.objects.get(gateway_id="ch_3_1")
    assert charge.customer is not None and charge.customer.gateway_id == "cus_3"
    assert charge.invoice is not None and charge.invoice.gateway_id == "in_3_1"
    assert charge.payment_method is not None and charge.payment_method.last4 == "0003"
    assert (charge.amount, charge.currency, charge.amount_refunded) == (1900, "EUR", 500)
    assert charge.status == "partially_refunded"
    assert charge.refundable == 1400
    assert m.Refund.objects.get(gateway_id="re_3_1").charge == charge
    assert m.Discount.objects.filter(coupon__gateway_id="co_10").count() == 5
    assert m.Customer.objects.filter(person__isnull=True).count() == 0
    assert m.Customer.objects.get(gateway_id="cus_3").email_normalized == "person.3@example.com"


@pytest.mark.django_db
def test_api_calls_grow_with_pages_not_objects(memory_account, memory_kind) -> None:
    build_history(memory_account, customers=250, charges_each=1)
    memory_kind.page_size = 100

    account_backfill(account=memory_account)

    # 250 customers/pms/subs/invoices/charges = 3 pages each; 36 discounts, 50 tax ids,
    # 28 disputes, no refunds, 1 coupon = 1 page each.
    assert memory_kind.list_calls == 5 * 3 + 5


@pytest.mark.django_db
def test_interrupted_mid_page_then_resumed_equals_an_uninterrupted_run(
    memory_account: GatewayAccount, memory_kind
) -> None:
    build_history(memory_account, customers=60, charges_each=5)  # 300 charges = 3 pages of 100
    memory_kind.page_size = 100
    account_backfill(account=memory_account)
    expected = snapshot()
    wipe_mirror()

    charge_batches = 0

    def crash_on_second_charge_page(sender: Any, kind: ObjectKind, **kwargs: Any) -> None:
        nonlocal charge_batches
        if kind == ObjectKind.CHARGE:
            charge_batches += 1
            if charge_batches == 2:
                raise ConnectionResetError("worker killed mid-page")

    mirror_changed.connect(crash_on_second_charge_page)
    try:
        run = sync_run_start(account=memory_account)
        with pytest.raises(ConnectionResetError):
            sync_run_execute(run=run)
    finally:
        mirror_changed.disconnect(crash_on_second_charge_page)

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "worker killed" in run.error
    # The first charge page is stored; the page that crashed left nothing behind.
    assert m.Charge.objects.count() == 100
    assert run.cursor == "100"

    resumed = sync_run_start(account=memory_account)
    assert resumed.pk == run.pk
    sync_run_execute(run=resumed)

    resumed.refresh_from_db()
    assert resumed.status == SyncRun.Status.DONE
    assert snapshot() == expected


@pytest.mark.django_db
def test_rerunning_a_backfill_duplicates_nothing(memory_account: GatewayAccount) -> None:
    build_history(memory_account, customers=20, charges_each=3)
    account_backfill(account=memory_account)
    before = snapshot()
    persons = m.Person.objects.count()

    second = sync_run_start(account=memory_account)
    result = sync_run_execute(run=second)

    assert result.created == 0 and result.updated == 0
    assert result.unchanged == result.seen > 0
    assert snapshot() == before
    assert m.Person.objects.count() == persons
    assert SyncRun.objects.filter(account=memory_account).count() == 2


@pytest.mark.django_db
def test_max_pages_leaves_a_resumable_run(memory_account: GatewayAccount, memory_kind) -> None:
    build_history(memory_account, customers=30, charges_each=1)
    memory_kind.page_size = 10

    run = sync_run_start(account=memory_account)
    sync_run_execute(run=run, max_pages=2)

    assert m.Customer.objects.count() == 20
    assert sync_run_start(account=memory_account).pk == run.pk
    sync_run_execute(run=run)
    assert m.Customer.objects.count() == 30
