"""The sandbox engine's subscriptions, invoices, coupons, discounts and tax ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.gateways.sandbox.engine import Line, SandboxEngine, parse_iso
from billingdesk.gateways.sandbox.models import SandboxEvent, SandboxObject

pytestmark = pytest.mark.django_db


def _subscribe(engine: SandboxEngine, customer: SandboxObject, **extra: object) -> SandboxObject:
    return engine.subscription_create(
        customer_id=customer.object_id,
        plan="pro-monthly",
        product="Pro",
        amount=4900,
        currency="EUR",
        **extra,  # type: ignore[arg-type]
    )


def _get(object_id: str) -> dict:  # type: ignore[type-arg]
    return SandboxObject.objects.get(object_id=object_id).data


def test_subscription_create_invoices_and_charges_the_first_period(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    subscription = _subscribe(engine, customer)

    body = _get(subscription.object_id)
    assert subscription.object_id.startswith("sub_")
    assert body["status"] == "active"
    invoice = _get(body["latest_invoice"])
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 4900
    assert invoice["number"] and invoice["subscription"] == subscription.object_id
    charge = _get(invoice["charge"])
    assert charge["amount"] == 4900 and charge["invoice"] == invoice["id"]
    start, end = parse_iso(body["current_period_start"]), parse_iso(body["current_period_end"])
    assert start and end and 28 <= (end - start).days <= 31
    types = set(SandboxEvent.objects.values_list("type", flat=True))
    assert {
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "charge.succeeded",
        "customer.subscription.updated",
    } <= types


def test_trialing_subscription_is_not_charged(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    subscription = _subscribe(engine, customer, trial_days=14)

    body = _get(subscription.object_id)
    assert body["status"] == "trialing"
    assert body["latest_invoice"] is None
    assert not SandboxObject.objects.filter(kind="charge").exists()
    assert parse_iso(body["trial_end"]) == parse_iso(body["current_period_end"])


def test_failed_first_payment_leaves_the_subscription_incomplete(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    engine.card_attach(
        customer_id=customer.object_id,
        number="4000000000000341",
        exp_month=1,
        exp_year=2040,
        make_default=True,
    )

    subscription = _subscribe(engine, customer)

    body = _get(subscription.object_id)
    assert body["status"] == "incomplete"
    assert _get(body["latest_invoice"])["status"] == "open"


def test_subscription_without_a_card_is_refused(engine: SandboxEngine) -> None:
    customer = engine.customer_create(email="no-card@example.com")
    with pytest.raises(InvalidRequest):
        _subscribe(engine, customer)
    assert not SandboxObject.objects.filter(kind="subscription").exists()


def test_cancel_now(engine: SandboxEngine, customer: SandboxObject) -> None:
    subscription = _subscribe(engine, customer)

    engine.subscription_cancel(subscription_id=subscription.object_id, at_period_end=False)

    body = _get(subscription.object_id)
    assert body["status"] == "canceled"
    assert body["ended_at"] and body["canceled_at"]
    assert (
        SandboxEvent.objects.filter(
            object_id=subscription.object_id, type="customer.subscription.deleted"
        ).count()
        == 1
    )
    with pytest.raises(NotAllowed):
        engine.subscription_cancel(subscription_id=subscription.object_id, at_period_end=False)


def test_cancel_at_period_end_keeps_it_active_until_the_period_ends(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    subscription = _subscribe(engine, customer)

    engine.subscription_cancel(subscription_id=subscription.object_id, at_period_end=True)

    body = _get(subscription.object_id)
    assert body["status"] == "active" and body["cancel_at_period_end"] is True
    engine.subscription_renew(subscription_id=subscription.object_id)
    body = _get(subscription.object_id)
    assert body["status"] == "canceled"
    assert body["ended_at"] == body["current_period_end"]
    assert SandboxObject.objects.filter(kind="invoice").count() == 1  # no new period billed


def test_failed_renewals_make_it_past_due_then_unpaid(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    subscription = _subscribe(engine, customer)
    engine.subscription_renew(subscription_id=subscription.object_id)
    assert _get(subscription.object_id)["status"] == "active"
    engine.card_attach(
        customer_id=customer.object_id,
        number="4000000000000341",
        exp_month=1,
        exp_year=2040,
        make_default=True,
    )

    engine.subscription_renew(subscription_id=subscription.object_id)
    assert _get(subscription.object_id)["status"] == "past_due"
    engine.subscription_renew(subscription_id=subscription.object_id)
    assert _get(subscription.object_id)["status"] == "unpaid"
    statuses = sorted(o.data["status"] for o in SandboxObject.objects.filter(kind="invoice"))
    assert statuses == ["open", "open", "paid", "paid"]


def test_pause_and_resume(engine: SandboxEngine, customer: SandboxObject) -> None:
    subscription = _subscribe(engine, customer)
    engine.subscription_pause(subscription_id=subscription.object_id)
    assert _get(subscription.object_id)["status"] == "paused"
    with pytest.raises(NotAllowed):
        engine.subscription_renew(subscription_id=subscription.object_id)
    engine.subscription_resume(subscription_id=subscription.object_id)
    assert _get(subscription.object_id)["status"] == "active"


def test_invoice_lifecycle(engine: SandboxEngine, customer: SandboxObject) -> None:
    invoice = engine.invoice_create(
        customer_id=customer.object_id,
        currency="EUR",
        lines=[Line("Consulting", 10000, 2), Line("Travel", 2550)],
        tax=4510,
        days_until_due=30,
    )
    assert invoice.object_id.startswith("in_")
    assert (invoice.data["status"], invoice.data["subtotal"], invoice.data["total"]) == (
        "draft",
        22550,
        27060,
    )
    with pytest.raises(NotAllowed):
        engine.invoice_pay(invoice_id=invoice.object_id)

    engine.invoice_finalize(invoice_id=invoice.object_id)
    engine.invoice_send(invoice_id=invoice.object_id)
    body = _get(invoice.object_id)
    assert body["status"] == "open" and body["sent_count"] == 1
    assert "/sandbox/pay/" in body["hosted_invoice_url"]

    engine.invoice_pay(invoice_id=invoice.object_id)
    body = _get(invoice.object_id)
    assert body["status"] == "paid" and body["amount_paid"] == 27060
    with pytest.raises(NotAllowed):
        engine.invoice_void(invoice_id=invoice.object_id)
    engine.invoice_send(invoice_id=invoice.object_id)  # a receipt may be re-sent
    assert _get(invoice.object_id)["sent_count"] == 2


def test_invoice_numbers_follow_each_other(engine: SandboxEngine, customer: SandboxObject) -> None:
    numbers = []
    for _ in range(3):
        invoice = engine.invoice_create(
            customer_id=customer.object_id, currency="EUR", lines=[Line("Item", 100)]
        )
        numbers.append(engine.invoice_finalize(invoice_id=invoice.object_id).data["number"])
    prefix = numbers[0].rsplit("-", 1)[0]
    assert numbers == [f"{prefix}-00001", f"{prefix}-00002", f"{prefix}-00003"]


def test_void_an_open_invoice(engine: SandboxEngine, customer: SandboxObject) -> None:
    invoice = engine.invoice_create(
        customer_id=customer.object_id, currency="EUR", lines=[Line("X", 500)]
    )
    engine.invoice_finalize(invoice_id=invoice.object_id)
    engine.invoice_void(invoice_id=invoice.object_id)
    assert _get(invoice.object_id)["status"] == "void"
    with pytest.raises(NotAllowed):
        engine.invoice_pay(invoice_id=invoice.object_id)


def test_coupons_validate_their_shape(engine: SandboxEngine) -> None:
    with pytest.raises(InvalidRequest):
        engine.coupon_create(name="both", percent_off_bp=1000, amount_off=500, currency="EUR")
    with pytest.raises(InvalidRequest):
        engine.coupon_create(name="no currency", amount_off=500)
    with pytest.raises(InvalidRequest):
        engine.coupon_create(name="too much", percent_off_bp=10_001)
    with pytest.raises(InvalidRequest):
        engine.coupon_create(name="repeating", percent_off_bp=1000, duration="repeating")
    coupon = engine.coupon_create(name="HALF", percent_off_bp=5000, duration="forever")
    assert coupon.object_id.startswith("co_") and coupon.data["percent_off_bp"] == 5000


def test_subscription_coupon_discounts_every_invoice(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    coupon = engine.coupon_create(name="QUARTER", percent_off_bp=2500, duration="forever")

    subscription = _subscribe(engine, customer, coupon_id=coupon.object_id)
    engine.subscription_renew(subscription_id=subscription.object_id)

    invoices = SandboxObject.objects.filter(kind="invoice").order_by("seq")
    assert [i.data["amount_paid"] for i in invoices] == [3675, 3675]
    [discount] = SandboxObject.objects.filter(kind="discount")
    assert discount.object_id.startswith("di_")
    assert discount.data["subscription"] == subscription.object_id
    assert _get(coupon.object_id)["times_redeemed"] == 1


def test_once_coupon_on_a_customer_is_used_by_one_invoice(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    coupon = engine.coupon_create(name="FIVE", amount_off=500, currency="EUR")
    engine.discount_create(coupon_id=coupon.object_id, customer_id=customer.object_id)

    first = engine.invoice_create(
        customer_id=customer.object_id, currency="EUR", lines=[Line("A", 2000)]
    )
    second = engine.invoice_create(
        customer_id=customer.object_id, currency="EUR", lines=[Line("B", 2000)]
    )

    assert first.data["total"] == 1500
    assert second.data["total"] == 2000
    assert SandboxEvent.objects.filter(type="customer.discount.created").count() == 1
    assert SandboxEvent.objects.filter(type="customer.discount.deleted").count() == 1


def test_tax_ids(engine: SandboxEngine, customer: SandboxObject) -> None:
    tax_id = engine.tax_id_create(
        customer_id=customer.object_id, tax_type="eu_vat", value="fr 12 345678901"
    )
    assert tax_id.object_id.startswith("txi_")
    assert (tax_id.data["value"], tax_id.data["country"]) == ("FR12345678901", "FR")
    with pytest.raises(InvalidRequest):
        engine.tax_id_create(customer_id=customer.object_id, tax_type="eu_vat", value="US123")
    with pytest.raises(InvalidRequest):
        engine.tax_id_create(customer_id=customer.object_id, tax_type="xx_tax", value="1")
    with pytest.raises(InvalidRequest):
        engine.tax_id_create(
            customer_id=customer.object_id, tax_type="eu_vat", value="DE123456789", country="FR"
        )
    greek = engine.tax_id_create(
        customer_id=customer.object_id, tax_type="eu_vat", value="EL123456789", country="GR"
    )
    assert greek.data["country"] == "GR"
    assert SandboxObject.objects.filter(kind="tax_id").count() == 2
    assert SandboxEvent.objects.filter(type="customer.tax_id.created").count() == 2


def test_seeding_in_the_past_keeps_times_in_order(engine: SandboxEngine) -> None:
    past = timezone.now() - timedelta(days=200)
    customer = engine.customer_create(email="old@example.com", created=past)
    engine.card_attach(
        customer_id=customer.object_id,
        number="4242424242424242",
        exp_month=1,
        exp_year=2040,
        created=past,
    )
    charge = engine.charge_create(
        customer_id=customer.object_id, amount=100, currency="EUR", created=past + timedelta(days=1)
    )
    assert charge.created == past + timedelta(days=1) == charge.updated
    assert parse_iso(charge.data["created"]) == charge.created
