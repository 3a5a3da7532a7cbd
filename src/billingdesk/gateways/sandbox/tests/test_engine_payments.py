"""The sandbox engine's cards, charges, captures, voids, refunds and disputes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    CardDeclined,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxEvent, SandboxObject

pytestmark = pytest.mark.django_db


def _objects(kind: str) -> list[SandboxObject]:
    return list(SandboxObject.objects.filter(kind=kind).order_by("seq"))


def _event_types(object_id: str) -> list[str]:
    return list(
        SandboxEvent.objects.filter(object_id=object_id)
        .order_by("id")
        .values_list("type", flat=True)
    )


def test_visa_charge_succeeds_and_records_events(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    charge = engine.charge_create(
        customer_id=customer.object_id,
        amount=2500,
        currency="eur",
        description="Mug",
        product="Mug",
        order_id="EU-1",
    )

    stored = SandboxObject.objects.get(object_id=charge.object_id)
    assert stored.object_id.startswith("ch_")
    assert stored.data["status"] == "succeeded"
    assert stored.data["captured"] is True
    assert stored.data["amount_captured"] == 2500
    assert stored.data["currency"] == "eur"
    assert stored.data["payment_method_details"]["card"] == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2040,
    }
    assert stored.data["metadata"] == {"product": "Mug", "order_id": "EU-1"}
    assert _event_types(charge.object_id) == ["charge.succeeded"]


def test_card_number_is_never_stored(engine: SandboxEngine, customer: SandboxObject) -> None:
    engine.charge_create(customer_id=customer.object_id, amount=100, currency="EUR")
    engine.charge_create(
        customer_id=None, card_number="5555 5555 5555 4444", amount=100, currency="EUR"
    )

    for row in SandboxObject.objects.all():
        assert "4242424242424242" not in str(row.data)
        assert "5555555555554444" not in str(row.data)
    for event in SandboxEvent.objects.all():
        assert "4242424242424242" not in str(event.payload)


@pytest.mark.parametrize(
    ("number", "decline_code"),
    [("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds")],
)
def test_declining_cards_record_a_failed_charge_and_raise(
    engine: SandboxEngine, customer: SandboxObject, number: str, decline_code: str
) -> None:
    with pytest.raises(CardDeclined) as caught:
        engine.charge_create(
            customer_id=customer.object_id, card_number=number, amount=900, currency="EUR"
        )

    assert caught.value.decline_code == decline_code
    assert "declined" in caught.value.message or "insufficient funds" in caught.value.message
    [failed] = _objects("charge")
    assert failed.data["status"] == "failed"
    assert failed.data["amount_captured"] == 0
    assert failed.data["outcome"]["reason"] == decline_code
    assert _event_types(failed.object_id) == ["charge.failed"]


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000009995"])
def test_declining_cards_cannot_be_attached(
    engine: SandboxEngine, customer: SandboxObject, number: str
) -> None:
    with pytest.raises(CardDeclined):
        engine.card_attach(
            customer_id=customer.object_id, number=number, exp_month=1, exp_year=2039
        )

    assert len(_objects("payment_method")) == 1  # only the fixture's Visa


def test_card_0341_attaches_but_every_charge_fails(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    method = engine.card_attach(
        customer_id=customer.object_id,
        number="4000000000000341",
        exp_month=3,
        exp_year=2041,
        make_default=True,
    )
    assert method.data["card"]["last4"] == "0341"

    for _ in range(2):
        with pytest.raises(CardDeclined):
            engine.charge_create(customer_id=customer.object_id, amount=500, currency="EUR")

    statuses = [c.data["status"] for c in _objects("charge")]
    assert statuses == ["failed", "failed"]
    customer.refresh_from_db()
    assert customer.data["invoice_settings"]["default_payment_method"] == method.object_id
    old_visa = _objects("payment_method")[0]
    assert old_visa.data["is_default"] is False


def test_card_0259_succeeds_then_is_disputed(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    charge = engine.charge_create(
        customer_id=customer.object_id, card_number="4000000000000259", amount=4200, currency="EUR"
    )

    charge.refresh_from_db()
    assert charge.data["status"] == "succeeded"
    assert charge.data["disputed"] is True
    [dispute] = _objects("dispute")
    assert dispute.object_id.startswith("dp_")
    assert dispute.data["charge"] == charge.object_id
    assert dispute.data["amount"] == 4200
    assert dispute.data["status"] == "needs_response"
    assert _event_types(dispute.object_id) == ["charge.dispute.created"]


def test_unknown_ids_and_bad_input_are_refused(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    with pytest.raises(NotFound):
        engine.refund_create(charge_id="ch_missing")
    with pytest.raises(NotFound):
        engine.charge_create(customer_id="cus_missing", amount=100, currency="EUR")
    with pytest.raises(InvalidRequest):
        engine.charge_create(customer_id=customer.object_id, amount=0, currency="EUR")
    with pytest.raises(InvalidRequest):
        engine.charge_create(customer_id=customer.object_id, amount=10.5, currency="EUR")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        engine.charge_create(customer_id=customer.object_id, amount=100, currency="EURO")
    with pytest.raises(InvalidRequest):
        engine.charge_create(
            customer_id=customer.object_id,
            amount=100,
            currency="EUR",
            card_number="4111111111111112",
        )
    assert _objects("charge") == []


def test_over_refund_is_refused_and_changes_nothing(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    engine.refund_create(charge_id=charge.object_id, amount=600)
    events_before = SandboxEvent.objects.count()
    charge.refresh_from_db()
    before = (charge.data, charge.updated)

    with pytest.raises(AmountTooLarge):
        engine.refund_create(charge_id=charge.object_id, amount=401)

    charge.refresh_from_db()
    assert (charge.data, charge.updated) == before
    assert len(_objects("refund")) == 1
    assert SandboxEvent.objects.count() == events_before


def test_partial_refunds_then_the_rest(engine: SandboxEngine, customer: SandboxObject) -> None:
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")

    first = engine.refund_create(charge_id=charge.object_id, amount=300, reason="damaged")
    engine.refund_create(charge_id=charge.object_id, amount=200)
    charge.refresh_from_db()
    assert charge.data["amount_refunded"] == 500
    assert charge.data["refunded"] is False

    rest = engine.refund_create(charge_id=charge.object_id)

    charge.refresh_from_db()
    assert rest.data["amount"] == 500
    assert charge.data["amount_refunded"] == 1000
    assert charge.data["refunded"] is True
    assert first.object_id.startswith("re_") and first.data["reason"] == "damaged"
    assert [r.data["amount"] for r in _objects("refund")] == [300, 200, 500]
    with pytest.raises(AmountTooLarge):
        engine.refund_create(charge_id=charge.object_id, amount=1)
    assert _event_types(charge.object_id) == ["charge.succeeded"] + ["charge.refunded"] * 3


def test_updated_strictly_increases_even_when_time_goes_back(
    engine: SandboxEngine, customer: SandboxObject
) -> None:
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    stamps = [charge.updated]
    past = timezone.now() - timedelta(days=30)
    for _ in range(3):
        engine.refund_create(charge_id=charge.object_id, amount=100, created=past)
        charge.refresh_from_db()
        stamps.append(charge.updated)

    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert charge.data["updated"].endswith("Z") and "." in charge.data["updated"]


def test_authorise_then_partial_capture(engine: SandboxEngine, customer: SandboxObject) -> None:
    charge = engine.charge_create(
        customer_id=customer.object_id, amount=5000, currency="EUR", capture=False
    )
    assert charge.data["captured"] is False and charge.data["amount_captured"] == 0
    with pytest.raises(NotAllowed):
        engine.refund_create(charge_id=charge.object_id)
    with pytest.raises(AmountTooLarge):
        engine.charge_capture(charge_id=charge.object_id, amount=5001)

    engine.charge_capture(charge_id=charge.object_id, amount=3000)

    charge.refresh_from_db()
    assert charge.data["captured"] is True
    assert charge.data["amount_captured"] == 3000
    with pytest.raises(NotAllowed):
        engine.charge_capture(charge_id=charge.object_id)
    with pytest.raises(AmountTooLarge):
        engine.refund_create(charge_id=charge.object_id, amount=3001)
    assert _event_types(charge.object_id) == ["charge.succeeded", "charge.captured"]


def test_void_releases_an_authorisation(engine: SandboxEngine, customer: SandboxObject) -> None:
    charge = engine.charge_create(
        customer_id=customer.object_id, amount=5000, currency="EUR", capture=False
    )

    engine.charge_void(charge_id=charge.object_id)

    charge.refresh_from_db()
    assert charge.data["voided"] is True and charge.data["amount_captured"] == 0
    with pytest.raises(NotAllowed):
        engine.charge_capture(charge_id=charge.object_id)
    with pytest.raises(NotAllowed):
        engine.charge_void(charge_id=charge.object_id)
    captured = engine.charge_create(customer_id=customer.object_id, amount=100, currency="EUR")
    with pytest.raises(NotAllowed):
        engine.charge_void(charge_id=captured.object_id)
