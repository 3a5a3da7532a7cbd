"""Webhooks through the real intake URL, signed exactly as Stripe signs them.

Signatures come from ``stripe.WebhookSignature.generate_signature_header`` (the official
SDK's signer, not billingdesk's verifier under test). Server: localstripe, for the thin
event whose object the connector must fetch; the other events carry their objects.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from django.test import Client

from billingdesk.billing.models import Charge, Customer, Refund, Subscription, TaxId
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.helpers import customer_with_card, event_json, post_event

CHARGE = {
    "id": "ch_web_1",
    "object": "charge",
    "amount": 5000,
    "amount_captured": 5000,
    "amount_refunded": 2000,
    "captured": True,
    "refunded": False,
    "status": "succeeded",
    "currency": "usd",
    "customer": "cus_web_1",
    "payment_intent": "pi_web_1",
    "payment_method": "pm_web_1",
    "created": 1700000000,
    "disputed": False,
    "payment_method_details": {
        "type": "card",
        "card": {"brand": "mastercard", "last4": "4444", "exp_month": 3, "exp_year": 2031},
    },
    "refunds": {
        "object": "list",
        "has_more": False,
        "data": [
            {
                "id": "re_web_1",
                "object": "refund",
                "amount": 2000,
                "currency": "usd",
                "charge": "ch_web_1",
                "status": "succeeded",
                "reason": "requested_by_customer",
                "created": 1700000100,
            }
        ],
    },
}


@pytest.fixture
def offline_account(fake: Any) -> GatewayAccount:
    """An account whose events carry their objects: no Stripe call is needed (the fake
    would answer 404 to anything)."""
    return make_account(fake.url)


@pytest.mark.django_db
def test_signed_event_is_stored_processed_and_mirrored(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    response = post_event(client, offline_account, event_json("charge.refunded", CHARGE))

    assert response.status_code == 200
    event = WebhookEvent.objects.get(account=offline_account)
    assert (event.status, event.event_type) == ("pending", "charge.refunded")
    drain_tasks()
    event.refresh_from_db()
    assert event.status == "processed"
    charge = Charge.objects.get(account=offline_account, gateway_id="ch_web_1")
    assert (charge.status, charge.amount_refunded, charge.currency) == (
        "partially_refunded",
        2000,
        "USD",
    )
    assert (charge.card_brand, charge.card_last4) == ("mastercard", "4444")
    refund = Refund.objects.get(account=offline_account)
    assert (refund.charge, refund.amount, refund.reason) == (charge, 2000, "requested_by_customer")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "missing"],
)
def test_unverifiable_event_is_rejected_and_changes_nothing(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None], tamper: str
) -> None:
    payload = event_json("charge.refunded", CHARGE)
    if tamper == "body":
        response = post_event(
            client, offline_account, payload, body=payload.replace("5000", "9000")
        )
    elif tamper == "secret":
        response = post_event(client, offline_account, payload, secret="whsec_someone_else")
    elif tamper == "stale":
        response = post_event(client, offline_account, payload, timestamp=int(time.time()) - 301)
    else:
        response = client.post(
            offline_account.webhook_path, data=payload, content_type="application/json"
        )

    assert response.status_code == 400
    drain_tasks()
    event = WebhookEvent.objects.get(account=offline_account)
    assert event.status == "rejected"
    assert not Charge.objects.exists()


@pytest.mark.django_db
def test_timestamp_inside_tolerance_is_accepted(
    client: Client, offline_account: GatewayAccount
) -> None:
    response = post_event(
        client,
        offline_account,
        event_json("charge.refunded", CHARGE),
        timestamp=int(time.time()) - 250,
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_unknown_event_type_is_kept_and_ignored(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    payload = event_json("payout.paid", {"id": "po_1", "object": "payout", "amount": 100})

    response = post_event(client, offline_account, payload)
    drain_tasks()

    assert response.status_code == 200
    event = WebhookEvent.objects.get(account=offline_account)
    assert (event.status, event.event_type) == ("processed", "payout.paid")
    assert bytes(event.body).decode() == payload


@pytest.mark.django_db
def test_duplicate_delivery_is_harmless(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    payload = event_json("charge.refunded", CHARGE)
    assert post_event(client, offline_account, payload).status_code == 200
    assert post_event(client, offline_account, payload).status_code == 200
    drain_tasks()

    statuses = sorted(WebhookEvent.objects.values_list("status", flat=True))
    assert statuses == ["duplicate", "processed"]
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_subscription_deleted_and_customer_deleted_events(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    sub = {
        "id": "sub_w",
        "object": "subscription",
        "customer": "cus_w",
        "status": "canceled",
        "canceled_at": 1700000000,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "quantity": 2,
                    "price": {
                        "id": "price_1",
                        "unit_amount": 900,
                        "currency": "eur",
                        "recurring": {"interval": "year", "interval_count": 1},
                        "product": "prod_1",
                    },
                    "current_period_end": 1730000000,
                }
            ],
        },
    }
    post_event(
        client, offline_account, event_json("customer.subscription.deleted", sub, event_id="e1")
    )
    post_event(
        client,
        offline_account,
        event_json(
            "customer.deleted",
            {"id": "cus_w", "object": "customer", "email": "w@example.com"},
            event_id="e2",
        ),
    )
    drain_tasks()

    row = Subscription.objects.get(gateway_id="sub_w")
    assert (row.status, row.amount, row.interval, row.quantity) == ("canceled", 900, "year", 2)
    assert row.current_period_end is not None
    assert Customer.objects.get(gateway_id="cus_w").deleted is True


@pytest.mark.django_db
def test_thin_event_refetches_its_object(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    """Server: localstripe, which holds the customer the thin event only names."""
    account = make_account(localstripe)
    cust = customer_with_card(
        seed, email="thin@example.com", tax_id_data=[{"type": "eu_vat", "value": "DE123456789012"}]
    )
    payload = event_json("customer.updated", {"id": cust.id, "object": "customer"})

    assert post_event(client, account, payload).status_code == 200
    drain_tasks()

    row = Customer.objects.get(account=account, gateway_id=cust.id)
    assert row.email == "thin@example.com"  # only the API had it
    assert TaxId.objects.get(account=account).customer == row
    assert WebhookEvent.objects.get(account=account).status == "processed"


@pytest.mark.django_db
def test_v2_thin_event_with_related_object_refetches(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    """Server: localstripe (holds the customer)."""
    account = make_account(localstripe)
    cust = customer_with_card(seed, email="v2@example.com")
    payload = json.dumps(
        {
            "id": "evt_v2_1",
            "object": "v2.core.event",
            "type": "v1.customer.updated",
            "created": int(time.time()),
            "related_object": {
                "id": cust.id,
                "type": "customer",
                "url": f"/v1/customers/{cust.id}",
            },
        }
    )
    # v2 event types are prefixed "v1." for v1 objects: strip it to route like v1 events.
    assert post_event(client, account, payload).status_code == 200
    drain_tasks()

    assert Customer.objects.get(account=account).email == "v2@example.com"


@pytest.mark.django_db
def test_card_update_checkout_completed_makes_the_new_card_default(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    """Server: localstripe, which has SetupIntents and customer updates (it has no Checkout,
    so the checkout.session.completed payload is written here as Stripe sends it)."""
    account = make_account(localstripe)
    cust = customer_with_card(seed, email="card@example.com")
    new_card = seed.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "5555555555554444",
                "exp_month": "7",
                "exp_year": "2032",
                "cvc": "123",
            },
        }
    )
    setup = seed.v1.setup_intents.create(
        params={"customer": cust.id, "payment_method_types": ["card"]}
    )
    seed.v1.setup_intents.confirm(setup.id, params={"payment_method": new_card.id})
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "setup",
        "customer": cust.id,
        "setup_intent": setup.id,
        "status": "complete",
    }

    post_event(client, account, event_json("checkout.session.completed", session))
    drain_tasks()

    assert seed.v1.customers.retrieve(cust.id).invoice_settings.default_payment_method == (
        new_card.id
    )
    from billingdesk.billing.models import PaymentMethod

    row = PaymentMethod.objects.get(account=account, gateway_id=new_card.id)
    assert (row.last4, row.is_default, row.customer.gateway_id) == ("4444", True, cust.id)


@pytest.mark.django_db
def test_a_charge_event_does_not_undo_which_card_is_default(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    card = {
        "id": "pm_web_1",
        "object": "payment_method",
        "type": "card",
        "customer": "cus_web_1",
        "card": {"brand": "mastercard", "last4": "4444", "exp_month": 3, "exp_year": 2031},
    }
    customer = {
        "id": "cus_web_1",
        "object": "customer",
        "email": "w1@example.com",
        "invoice_settings": {"default_payment_method": card},
    }
    post_event(client, offline_account, event_json("customer.updated", customer, event_id="e1"))
    drain_tasks()
    post_event(client, offline_account, event_json("charge.succeeded", CHARGE, event_id="e2"))
    drain_tasks()

    from billingdesk.billing.models import PaymentMethod

    row = PaymentMethod.objects.get(account=offline_account, gateway_id="pm_web_1")
    assert (row.is_default, row.last4) == (True, "4444")
    assert Charge.objects.get(gateway_id="ch_web_1").payment_method == row
