"""PaymentIntents without a charge: mirrored as pending (or voided) payments, until the
intent's charge supersedes them.

Server: localstripe wherever it can make the state — an unpaid intent, one waiting for 3-D
Secure, one canceled, and 3-D Secure then completed (its ``_authenticate`` endpoint) — with
the HTTP fake in front of it for the backfill, to count the API calls it received. Events
whose payloads carry their objects need no server (the fake, which would answer 404 to any
call): localstripe cannot fail 3-D Secure without a charge nor deliver events out of order.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest
import stripe
from django.test import Client

from billingdesk.actions.models import ActionKind
from billingdesk.actions.rules import actions_available
from billingdesk.billing.models import Charge, Customer
from billingdesk.core.errors import GatewayUnavailable
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.helpers import (
    charge_id,
    customer_with_card,
    event_json,
    pay,
    post_event,
)
from billingdesk.gateways.stripe.tests.localstripe_server import TEST_KEY
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start
from billingdesk.panel.selectors import panel_data
from billingdesk.panel.tests.factories import agent

SECURE_CARD = {"number": "4000002760003184", "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def _awaiting_3ds(seed: stripe.StripeClient, customer: stripe.Customer) -> stripe.PaymentIntent:
    pm = seed.v1.payment_methods.create(params={"type": "card", "card": dict(SECURE_CARD)})  # type: ignore[typeddict-item]
    pi = seed.v1.payment_intents.create(
        params={
            "amount": 2200,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": pm.id,
            "confirm": True,
        }
    )
    assert pi.status == "requires_action"
    return pi


def _pass_3ds(localstripe: str, pi: stripe.PaymentIntent) -> None:
    """localstripe's stand-in for the customer completing 3-D Secure."""
    body = urllib.parse.urlencode({"client_secret": pi.client_secret, "success": "true"})
    request = urllib.request.Request(
        f"{localstripe}/v1/payment_intents/{pi.id}/_authenticate",
        data=body.encode(),
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _shown(customer: Customer) -> list[str]:
    """The payments the agent panel lists for the customer's person."""
    assert customer.person_id is not None
    return sorted(c.gateway_id for c in panel_data(customer.person_id).charges.rows)


@pytest.mark.django_db
def test_backfill_mirrors_intents_without_a_charge_once_each(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="intents@example.com")
    paid = pay(seed, cust, 4000)
    unpaid = seed.v1.payment_intents.create(
        params={"amount": 1500, "currency": "eur", "customer": cust.id}
    )
    secure = _awaiting_3ds(seed, cust)
    dropped = seed.v1.payment_intents.create(
        params={"amount": 900, "currency": "eur", "customer": cust.id}
    )
    seed.v1.payment_intents.cancel(dropped.id)
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)

        account_backfill(account=account)

        assert fake.calls("GET", "/v1/payment_intents") == 1
    rows = {c.gateway_id: c for c in Charge.objects.filter(account=account)}
    customer = Customer.objects.get(account=account, gateway_id=cust.id)
    # The paid intent is its charge, once; the others are rows of their own.
    assert sorted(rows) == sorted([charge_id(paid), unpaid.id, secure.id, dropped.id])
    assert rows[charge_id(paid)].alt_id == paid.id
    row = rows[unpaid.id]
    assert (row.status, row.amount, row.currency, row.customer) == (
        "pending",
        1500,
        "EUR",
        customer,
    )
    assert (row.alt_id, row.deleted) == (unpaid.id, False)
    assert rows[secure.id].status == "pending"
    assert rows[dropped.id].status == "voided"
    assert _shown(customer) == sorted(rows)


@pytest.mark.django_db
def test_backfill_resumes_inside_the_payment_intents_listing(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="resume@example.com")
    pay(seed, cust, 4000)
    unpaid = seed.v1.payment_intents.create(
        params={"amount": 1500, "currency": "eur", "customer": cust.id}
    )
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)
        # Given Stripe fails on payment intents (more 500s than the client retries)…
        fake.fail_next("/v1/payment_intents", 500, times=3)
        run = sync_run_start(account=account)
        with pytest.raises(GatewayUnavailable):
            sync_run_execute(run=run)
        run.refresh_from_db()
        assert run.cursor == "payment_intents:"
        charges_calls = fake.calls("GET", "/v1/charges")

        # …the next run resumes at the payment intents, not at the charges.
        account_backfill(account=account)

        assert fake.calls("GET", "/v1/charges") == charges_calls
    assert Charge.objects.get(account=account, gateway_id=unpaid.id).status == "pending"


@pytest.mark.django_db
def test_an_intent_row_offers_no_refund_or_capture(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="offers@example.com")
    paid = pay(seed, cust, 4000)
    held = pay(seed, cust, 3000, capture=False)
    waiting = _awaiting_3ds(seed, cust)
    with StripeFake(upstream=localstripe) as fake:  # it serves the disputes listing
        account_backfill(account=make_account(fake.url))
    ana = agent()

    def offered(gateway_id: str) -> list[ActionKind]:
        return actions_available(user=ana, target=Charge.objects.get(gateway_id=gateway_id))

    # The same agent is offered a refund on the paid charge and a capture on the hold…
    assert ActionKind.REFUND in offered(charge_id(paid))
    assert ActionKind.CAPTURE in offered(charge_id(held))
    # …and nothing on a payment still waiting for 3-D Secure.
    assert offered(waiting.id) == []


@pytest.mark.django_db
def test_webhooks_show_a_3ds_intent_as_pending_then_as_its_charge_alone(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    """Thin events, so each object comes from localstripe as it then is."""
    account = make_account(localstripe)
    cust = customer_with_card(seed, email="threeds@example.com")
    pi = _awaiting_3ds(seed, cust)
    now = int(time.time())
    post_event(
        client,
        account,
        event_json(
            "customer.created", {"id": cust.id, "object": "customer"}, event_id="evt_c", created=now
        ),
    )
    post_event(
        client,
        account,
        event_json(
            "payment_intent.requires_action",
            {"id": pi.id, "object": "payment_intent"},
            event_id="evt_pi",
            created=now,
        ),
    )
    drain_tasks()

    customer = Customer.objects.get(account=account, gateway_id=cust.id)
    pending = Charge.objects.get(account=account, gateway_id=pi.id)
    assert (pending.status, pending.amount, pending.deleted) == ("pending", 2200, False)
    assert _shown(customer) == [pi.id]

    # The customer completes 3-D Secure: Stripe charges the card.
    _pass_3ds(localstripe, pi)
    paid = seed.v1.payment_intents.retrieve(pi.id)
    assert paid.status == "succeeded"
    post_event(
        client,
        account,
        event_json(
            "charge.succeeded",
            {"id": charge_id(paid), "object": "charge"},
            event_id="evt_ch",
            created=now + 1,
        ),
    )
    drain_tasks()

    assert Charge.objects.get(account=account, gateway_id=charge_id(paid)).status == "captured"
    assert Charge.objects.get(account=account, gateway_id=pi.id).deleted is True
    assert _shown(customer) == [charge_id(paid)]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


INTENT = {
    "id": "pi_late_1",
    "object": "payment_intent",
    "amount": 5000,
    "currency": "usd",
    "customer": "cus_late_1",
    "status": "requires_payment_method",
    "latest_charge": None,
    "created": 1700000000,
    "metadata": {"order_id": "A-1001"},
}
CUSTOMER = {"id": "cus_late_1", "object": "customer", "email": "late@example.com"}


@pytest.fixture
def offline_account(fake: StripeFake) -> GatewayAccount:
    return make_account(fake.url)


@pytest.mark.django_db
def test_an_intent_event_arriving_after_its_charge_stays_hidden(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    charge = {
        "id": "ch_late_1",
        "object": "charge",
        "amount": 5000,
        "amount_captured": 5000,
        "captured": True,
        "status": "succeeded",
        "currency": "usd",
        "customer": "cus_late_1",
        "payment_intent": "pi_late_1",
        "created": 1700000050,
    }
    post_event(
        client, offline_account, event_json("customer.created", CUSTOMER, event_id="e1", created=1)
    )
    post_event(
        client, offline_account, event_json("charge.succeeded", charge, event_id="e2", created=3)
    )
    drain_tasks()
    # Stripe does not promise order: the intent's creation comes last.
    post_event(
        client,
        offline_account,
        event_json("payment_intent.created", INTENT, event_id="e3", created=2),
    )
    drain_tasks()

    attempt = Charge.objects.get(account=offline_account, gateway_id="pi_late_1")
    assert (attempt.deleted, attempt.order_id) == (True, "A-1001")
    assert Charge.objects.get(account=offline_account, gateway_id="ch_late_1").deleted is False
    assert _shown(Customer.objects.get(account=offline_account)) == ["ch_late_1"]


@pytest.mark.django_db
def test_a_failed_attempt_keeps_its_error_and_a_canceled_intent_is_voided(
    client: Client, offline_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    failed = {
        **INTENT,
        "last_payment_error": {
            "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication.",
        },
    }
    post_event(
        client,
        offline_account,
        event_json("payment_intent.payment_failed", failed, event_id="e1", created=10),
    )
    drain_tasks()

    row = Charge.objects.get(account=offline_account, gateway_id="pi_late_1")
    # Still pending: the customer may try again with the same intent.
    assert (row.status, row.failure_code, row.deleted) == (
        "pending",
        "payment_intent_authentication_failure",
        False,
    )
    assert row.failure_message.startswith("The provided PaymentMethod")

    canceled = {**failed, "status": "canceled", "cancellation_reason": "abandoned"}
    post_event(
        client,
        offline_account,
        event_json("payment_intent.canceled", canceled, event_id="e2", created=20),
    )
    drain_tasks()

    row.refresh_from_db()
    assert (row.status, row.amount, row.deleted) == ("voided", 5000, False)
