"""Voiding an invoice (``POST /v1/invoices/{id}/void``) and reactivating a subscription
(``cancel_at_period_end=false``) through the real Stripe client, against the fake
(localstripe has neither void nor the refusal of an update to a canceled subscription)."""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways.interface import GwInvoice, GwSubscription
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe.connector import StripeConnector
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

pytestmark = pytest.mark.django_db


def _connector(account: GatewayAccount) -> StripeConnector:
    connector = connector_for(account)
    assert isinstance(connector, StripeConnector)
    return connector


def _one(objects: list[Any], cls: type) -> Any:
    [found] = [o for o in objects if isinstance(o, cls)]
    return found


def _invoice(fake: StripeFake, invoice_id: str, status: str) -> None:
    fake.add(
        {
            "id": invoice_id,
            "object": "invoice",
            "status": status,
            "customer": "cus_1",
            "currency": "eur",
            "number": f"INV-{invoice_id}",
            "total": 3000,
            "amount_due": 3000,
            "amount_remaining": 3000 if status == "open" else 0,
        }
    )


def test_an_open_invoice_is_voided_once(fake: StripeFake, fake_account: GatewayAccount) -> None:
    _invoice(fake, "in_open", "open")
    connector = _connector(fake_account)

    voided = _one(
        connector.invoice_void(invoice_id="in_open", idempotency_key="v1").objects, GwInvoice
    )
    again = _one(
        connector.invoice_void(invoice_id="in_open", idempotency_key="v1").objects, GwInvoice
    )

    assert (voided.status.value, voided.number) == ("void", "INV-in_open")
    assert again.status.value == "void"
    assert fake.objects["in_open"]["status"] == "void"
    # The retry read the void invoice and did not ask Stripe to void it again.
    assert fake.calls("POST", "/v1/invoices/in_open/void") == 1
    assert ("/v1/invoices/in_open/void", "v1") in fake.idempotency_keys


@pytest.mark.parametrize(
    ("status", "message"),
    [("paid", "refund its payment instead"), ("draft", "only an open one can")],
)
def test_a_paid_or_draft_invoice_is_refused_without_a_call(
    fake: StripeFake, fake_account: GatewayAccount, status: str, message: str
) -> None:
    _invoice(fake, "in_x", status)
    with pytest.raises(NotAllowed, match=message):
        _connector(fake_account).invoice_void(invoice_id="in_x", idempotency_key="v")
    assert fake.calls("POST", "/v1/invoices/in_x/void") == 0
    assert fake.objects["in_x"]["status"] == status


def test_the_fake_refuses_to_void_a_paid_invoice_as_stripe_does(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Stripe's own refusal (the invoice was paid between the read and the void) reaches the
    agent as a user-facing error, not a crash."""
    _invoice(fake, "in_race", "paid")
    api = _connector(fake_account).api
    with pytest.raises(NotAllowed):
        api.act("invoices", "void_invoice", "in_race", {}, idempotency_key="race")


def _subscription(fake: StripeFake, connector: StripeConnector) -> str:
    fake.add(
        {
            "id": "price_gold",
            "object": "price",
            "unit_amount": 2500,
            "currency": "eur",
            "recurring": {"interval": "month", "interval_count": 1},
            "product": "Gold",
        }
    )
    created = connector.subscription_create(
        customer_id="cus_1", plan="price_gold", idempotency_key="s0"
    )
    return str(_one(created.objects, GwSubscription).id)


def test_a_cancellation_at_period_end_is_undone(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    connector = _connector(fake_account)
    sub_id = _subscription(fake, connector)
    connector.subscription_cancel(subscription_id=sub_id, at_period_end=True, idempotency_key="c")
    assert fake.objects[sub_id]["cancel_at_period_end"] is True

    back = _one(
        connector.subscription_reactivate(subscription_id=sub_id, idempotency_key="r1").objects,
        GwSubscription,
    )
    assert (back.status.value, back.cancel_at_period_end) == ("active", False)
    assert fake.objects[sub_id]["cancel_at_period_end"] is False
    assert (f"/v1/subscriptions/{sub_id}", "r1") in fake.idempotency_keys
    # Nothing left to undo: answered with the state, no second update.
    updates = fake.calls("POST", f"/v1/subscriptions/{sub_id}")
    connector.subscription_reactivate(subscription_id=sub_id, idempotency_key="r2")
    assert fake.calls("POST", f"/v1/subscriptions/{sub_id}") == updates


def test_an_ended_subscription_is_refused(fake: StripeFake, fake_account: GatewayAccount) -> None:
    connector = _connector(fake_account)
    sub_id = _subscription(fake, connector)
    connector.subscription_cancel(subscription_id=sub_id, at_period_end=False, idempotency_key="c")
    updates = fake.calls("POST", f"/v1/subscriptions/{sub_id}")

    with pytest.raises(NotAllowed, match="canceled: it cannot be reactivated"):
        connector.subscription_reactivate(subscription_id=sub_id, idempotency_key="r")
    assert fake.calls("POST", f"/v1/subscriptions/{sub_id}") == updates
    assert fake.objects[sub_id]["status"] == "canceled"
