"""Agent actions through the Stripe connector, and how each failure reaches the caller.

Server per test: localstripe where it implements the endpoint (refunds, PaymentIntent
authorise/capture/cancel, plan subscriptions, tax ids, credentials); the HTTP fake where
localstripe cannot (it has no invoice send/finalize, no coupons on subscriptions, no Prices,
no Checkout, ignores Idempotency-Key, never answers 429) — each test says which and why.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import stripe

from billingdesk.billing.models import Charge, Refund
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    RateLimited,
)
from billingdesk.gateways.interface import (
    ChargeStatus,
    GwCharge,
    GwDiscount,
    GwInvoice,
    GwRefund,
    GwSubscription,
    GwTaxId,
)
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe.connector import StripeConnector
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.helpers import charge_id, customer_with_card, pay
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake


def _connector(account: GatewayAccount) -> StripeConnector:
    connector = connector_for(account)
    assert isinstance(connector, StripeConnector)
    return connector


def _one(objects: list[Any], cls: type) -> Any:
    found = [o for o in objects if isinstance(o, cls)]
    assert len(found) == 1, objects
    return found[0]


# --- refunds (localstripe) ------------------------------------------------------------------


@pytest.mark.django_db
def test_partial_then_full_refund(account: GatewayAccount, seed: stripe.StripeClient) -> None:
    cust = customer_with_card(seed, email="r@example.com")
    ch = charge_id(pay(seed, cust, 5000))
    connector = _connector(account)

    first = connector.refund_create(
        charge_id=ch, amount=1500, reason="item arrived broken", idempotency_key="rf-1"
    )
    charge = _one(first.objects, GwCharge)
    assert (charge.status, charge.amount_refunded) == (ChargeStatus.PARTIALLY_REFUNDED, 1500)
    refund = _one(first.objects, GwRefund)
    assert (refund.amount, refund.reason, refund.charge_id) == (1500, "item arrived broken", ch)

    rest = connector.refund_create(charge_id=ch, amount=None, reason="", idempotency_key="rf-2")
    assert _one(rest.objects, GwCharge).status is ChargeStatus.REFUNDED
    mirror_upsert(account=account, objects=rest.objects)
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [1500, 3500]
    assert Charge.objects.get(gateway_id=ch).status == "refunded"


@pytest.mark.django_db
def test_refund_retried_with_the_same_key_refunds_once(
    account: GatewayAccount, seed: stripe.StripeClient
) -> None:
    """localstripe ignores Idempotency-Key, so this proves the connector's own guard."""
    cust = customer_with_card(seed, email="twice@example.com")
    ch = charge_id(pay(seed, cust, 3000))
    connector = _connector(account)

    connector.refund_create(charge_id=ch, amount=1000, reason="x", idempotency_key="same")
    again = connector.refund_create(charge_id=ch, amount=1000, reason="x", idempotency_key="same")

    assert _one(again.objects, GwCharge).amount_refunded == 1000
    assert len(seed.v1.refunds.list(params={"charge": ch}).data) == 1


@pytest.mark.django_db
def test_over_refund_is_refused_before_anything_moves(
    account: GatewayAccount, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="over@example.com")
    ch = charge_id(pay(seed, cust, 4000))
    seed.v1.refunds.create(params={"charge": ch, "amount": 3000})

    with pytest.raises(AmountTooLarge, match=r"only €10\.00 of this payment is left"):
        _connector(account).refund_create(
            charge_id=ch, amount=1001 + 1000 - 1, reason="", idempotency_key="over"
        )
    assert len(seed.v1.refunds.list(params={"charge": ch}).data) == 1


@pytest.mark.django_db
def test_refund_of_an_authorisation_is_not_allowed(
    account: GatewayAccount, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="auth@example.com")
    ch = charge_id(pay(seed, cust, 4000, capture=False))
    with pytest.raises(NotAllowed, match="void"):
        _connector(account).refund_create(charge_id=ch, amount=None, reason="", idempotency_key="k")


# --- authorise, capture, void (localstripe) -------------------------------------------------


@pytest.mark.django_db
def test_authorise_then_partial_capture(account: GatewayAccount, seed: stripe.StripeClient) -> None:
    cust = customer_with_card(seed, email="cap@example.com")
    connector = _connector(account)

    held = connector.charge_authorize(
        customer_id=cust.id, amount=8000, currency="EUR", description="", idempotency_key="a1"
    )
    auth = _one(held.objects, GwCharge)
    assert (auth.status, auth.amount, auth.amount_captured) == (ChargeStatus.AUTHORIZED, 8000, 0)

    captured = connector.charge_capture(charge_id=auth.id, amount=6000, idempotency_key="c1")
    charge = _one(captured.objects, GwCharge)
    # localstripe releases the uncaptured 20.00 as a refund, as Stripe does.
    assert charge.amount_refunded == 2000
    assert charge.status is ChargeStatus.PARTIALLY_REFUNDED
    with pytest.raises(NotAllowed):
        connector.charge_void(charge_id=auth.id, idempotency_key="v-late")


@pytest.mark.django_db
def test_capture_more_than_authorised_is_refused(
    account: GatewayAccount, seed: stripe.StripeClient
) -> None:
    cust = customer_with_card(seed, email="cap2@example.com")
    ch = charge_id(pay(seed, cust, 1000, capture=False))
    with pytest.raises(AmountTooLarge):
        _connector(account).charge_capture(charge_id=ch, amount=1001, idempotency_key="c")


@pytest.mark.django_db
def test_full_capture_and_void(account: GatewayAccount, seed: stripe.StripeClient) -> None:
    cust = customer_with_card(seed, email="void@example.com")
    one = charge_id(pay(seed, cust, 1000, capture=False))
    two = charge_id(pay(seed, cust, 2000, capture=False))
    connector = _connector(account)

    full = _one(
        connector.charge_capture(charge_id=one, amount=None, idempotency_key="c").objects, GwCharge
    )
    voided = connector.charge_void(charge_id=two, idempotency_key="v")

    assert (full.status, full.amount_captured) == (ChargeStatus.CAPTURED, 1000)
    assert _one(voided.objects, GwCharge).status is ChargeStatus.VOIDED
    pi = seed.v1.charges.retrieve(two).payment_intent
    assert seed.v1.payment_intents.retrieve(str(pi)).status == "canceled"


@pytest.mark.django_db
def test_declined_card_is_a_card_declined_error(
    account: GatewayAccount, seed: stripe.StripeClient
) -> None:
    cust = seed.v1.customers.create(params={"email": "decline@example.com"})
    # Stripe's test card that attaches fine but whose charges are declined.
    declined = seed.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {
                "number": "4000000000000341",
                "exp_month": "12",
                "exp_year": "2030",
                "cvc": "123",
            },
        }
    )
    seed.v1.payment_methods.attach(declined.id, params={"customer": cust.id})

    with pytest.raises(CardDeclined, match="declined") as caught:
        _connector(account).charge_authorize(
            customer_id=cust.id,
            amount=1000,
            currency="eur",
            description="",
            idempotency_key="d",
            payment_method_id=declined.id,
        )
    assert caught.value.code == "card_declined"


# --- subscriptions and tax ids (localstripe) ------------------------------------------------


@pytest.fixture
def plan(seed: stripe.StripeClient) -> str:
    product = seed.v1.products.create(params={"name": "Silver"})
    seed.v1.plans.create(
        params={
            "id": "silver",
            "amount": 900,
            "currency": "eur",
            "interval": "month",
            "product": product.id,
        }
    )
    return "silver"


@pytest.mark.django_db
def test_create_then_cancel_subscription(
    account: GatewayAccount, seed: stripe.StripeClient, plan: str
) -> None:
    cust = customer_with_card(seed, email="sub@example.com")
    connector = _connector(account)

    created = _one(
        connector.subscription_create(customer_id=cust.id, plan=plan, idempotency_key="s1").objects,
        GwSubscription,
    )
    assert (created.status.value, created.plan, created.amount) == ("active", "silver", 900)

    later = connector.subscription_cancel(
        subscription_id=created.id, at_period_end=True, idempotency_key="s2"
    )
    assert _one(later.objects, GwSubscription).cancel_at_period_end is True
    now = connector.subscription_cancel(
        subscription_id=created.id, at_period_end=False, idempotency_key="s3"
    )
    assert _one(now.objects, GwSubscription).status.value == "canceled"
    assert seed.v1.subscriptions.retrieve(created.id).status == "canceled"
    # Cancelling again (a retry) reports the state instead of failing.
    again = connector.subscription_cancel(
        subscription_id=created.id, at_period_end=False, idempotency_key="s3"
    )
    assert _one(again.objects, GwSubscription).status.value == "canceled"


@pytest.mark.django_db
def test_add_tax_id(account: GatewayAccount, seed: stripe.StripeClient) -> None:
    cust = customer_with_card(seed, email="vat@example.com")
    tax = _one(
        _connector(account)
        .tax_id_add(
            customer_id=cust.id, tax_type="eu_vat", value=" FR98765432109 ", idempotency_key="t"
        )
        .objects,
        GwTaxId,
    )
    assert (tax.customer_id, tax.value, tax.country) == (cust.id, "FR98765432109", "FR")
    with pytest.raises(InvalidRequest):
        _connector(account).tax_id_add(
            customer_id=cust.id, tax_type="eu_vat", value="FR1", idempotency_key="t2"
        )


# --- credentials, network (localstripe / a closed port) ------------------------------------


@pytest.mark.django_db
def test_credentials_checked(localstripe: str) -> None:
    good = make_account(localstripe)
    _connector(good).check_credentials()
    expired = make_account(localstripe, key="expired_key_123", name="expired")
    with pytest.raises(AuthenticationFailed, match="secret key"):
        _connector(expired).check_credentials()


@pytest.mark.django_db
def test_network_failure_is_gateway_unavailable() -> None:
    """Server: none — a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    account = make_account(f"http://127.0.0.1:{port}")
    with pytest.raises(GatewayUnavailable, match="Could not reach Stripe"):
        _connector(account).refund_create(
            charge_id="ch_1", amount=None, reason="", idempotency_key="n"
        )


# --- the fake: what localstripe cannot do ---------------------------------------------------


@pytest.mark.django_db
def test_rate_limit_is_retried_then_succeeds(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Fake: localstripe never answers 429."""
    fake.fail_next("/v1/balance", 429)
    _connector(fake_account).check_credentials()
    assert fake.calls("GET", "/v1/balance") == 2


@pytest.mark.django_db
def test_persistent_rate_limit_is_rate_limited(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Fake: localstripe never answers 429."""
    fake.fail_next("/v1/balance", 429, times=10)
    with pytest.raises(RateLimited):
        _connector(fake_account).check_credentials()
    assert fake.calls("GET", "/v1/balance") == 3  # first try + 2 retries


@pytest.mark.django_db
def test_expired_key_at_the_fake_is_authentication_failed(fake: StripeFake) -> None:
    """Fake: answers 401 "Expired API Key provided" as Stripe does for a rolled key."""
    account = make_account(fake.url, key="sk_expired")
    with pytest.raises(AuthenticationFailed):
        _connector(account).check_credentials()


def _fake_price(fake: StripeFake) -> str:
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
    fake.add(
        {
            "id": "SPRING20",
            "object": "coupon",
            "percent_off": 20.0,
            "duration": "once",
            "valid": True,
        }
    )
    return "price_gold"


@pytest.mark.django_db
def test_subscription_with_price_and_coupon(fake: StripeFake, fake_account: GatewayAccount) -> None:
    """Fake: localstripe has no Prices and rejects discounts."""
    price = _fake_price(fake)
    connector = _connector(fake_account)

    result = connector.subscription_create(
        customer_id="cus_1", plan=price, coupon_id="SPRING20", quantity=2, idempotency_key="sub"
    )
    again = connector.subscription_create(
        customer_id="cus_1", plan=price, coupon_id="SPRING20", quantity=2, idempotency_key="sub"
    )

    sub = _one(result.objects, GwSubscription)
    assert (sub.plan, sub.amount, sub.quantity) == ("price_gold", 2500, 2)
    assert _one(result.objects, GwDiscount).coupon_id == "SPRING20"
    assert fake.idempotency_keys == [("/v1/subscriptions", "sub")] * 2
    # Same Idempotency-Key: Stripe (here the fake) replays the first answer.
    assert _one(again.objects, GwSubscription).id == sub.id
    assert sum(1 for o in fake.objects.values() if o["object"] == "subscription") == 1


@pytest.mark.django_db
def test_coupon_applied_to_subscription_and_to_customer(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Fake: localstripe cannot apply coupons at all."""
    price = _fake_price(fake)
    connector = _connector(fake_account)
    sub = _one(
        connector.subscription_create(customer_id="cus_2", plan=price, idempotency_key="s").objects,
        GwSubscription,
    )

    on_sub = connector.coupon_apply(
        coupon_id="SPRING20", subscription_id=sub.id, idempotency_key="c1"
    )
    on_customer = connector.coupon_apply(
        coupon_id="SPRING20", customer_id="cus_2", idempotency_key="c2"
    )

    assert _one(on_sub.objects, GwDiscount).subscription_id == sub.id
    assert _one(on_customer.objects, GwDiscount).customer_id == "cus_2"
    with pytest.raises(NotAllowed, match="no active subscription"):
        connector.coupon_apply(coupon_id="SPRING20", customer_id="cus_none", idempotency_key="c3")


@pytest.mark.django_db
def test_send_draft_invoice_then_resend(fake: StripeFake, fake_account: GatewayAccount) -> None:
    """Fake: localstripe has no /finalize or /send."""
    fake.add(
        {
            "id": "in_1",
            "object": "invoice",
            "status": "draft",
            "customer": "cus_1",
            "currency": "eur",
            "total": 1200,
            "amount_due": 1200,
        }
    )
    connector = _connector(fake_account)

    sent = _one(connector.invoice_send(invoice_id="in_1", idempotency_key="i1").objects, GwInvoice)
    connector.invoice_send(invoice_id="in_1", idempotency_key="i2")

    assert (sent.status.value, sent.number) == ("open", "INV-0001")
    assert sent.hosted_url.endswith("/in_1")
    assert fake.objects["in_1"]["sent_count"] == 2
    assert fake.calls("POST", "/v1/invoices/in_1/finalize") == 1


@pytest.mark.django_db
def test_void_invoice_cannot_be_sent(fake: StripeFake, fake_account: GatewayAccount) -> None:
    """Fake: localstripe has no /send."""
    fake.add({"id": "in_v", "object": "invoice", "status": "void", "currency": "eur"})
    with pytest.raises(NotAllowed):
        _connector(fake_account).invoice_send(invoice_id="in_v", idempotency_key="i")
    assert fake.calls("POST", "/v1/invoices") == 0


@pytest.mark.django_db
def test_payment_request_and_card_update_are_stripe_hosted_pages(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Fake: localstripe has no Checkout Sessions."""
    connector = _connector(fake_account)
    pay_link = connector.payment_request_create(
        customer_id="cus_1",
        amount=4200,
        currency="EUR",
        description="Overdue balance",
        idempotency_key="pr",
    )
    card = connector.card_update_start(customer_id="cus_1", return_url="https://bd.test/back")

    assert pay_link.url.startswith("https://checkout.stripe.com/")
    sessions = [o for o in fake.objects.values() if o["object"] == "checkout.session"]
    assert sorted(s["mode"] for s in sessions) == ["payment", "setup"]
    assert next(s for s in sessions if s["mode"] == "payment")["amount_total"] == 4200
    assert card.url.startswith("https://checkout.stripe.com/")
    assert (
        next(s for s in sessions if s["mode"] == "setup")["success_url"] == "https://bd.test/back"
    )


@pytest.mark.django_db
def test_every_write_carries_an_idempotency_key(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    """Fake: records the headers of each request (localstripe ignores the header)."""
    price = _fake_price(fake)
    fake.add({"id": "in_k", "object": "invoice", "status": "draft", "currency": "eur"})
    connector = _connector(fake_account)
    sub = _one(
        connector.subscription_create(
            customer_id="cus_k", plan=price, idempotency_key="k1"
        ).objects,
        GwSubscription,
    )
    connector.subscription_cancel(subscription_id=sub.id, at_period_end=False, idempotency_key="k2")
    connector.invoice_send(invoice_id="in_k", idempotency_key="k3")
    connector.card_update_start(customer_id="cus_k", return_url="https://bd.test/")

    keys = dict(fake.idempotency_keys)
    assert keys["/v1/subscriptions"] == "k1"
    assert keys[f"/v1/subscriptions/{sub.id}"] == "k2"
    assert keys["/v1/invoices/in_k/finalize"] == "k3:finalize"
    assert keys["/v1/invoices/in_k/send"] == "k3:send"
    assert keys["/v1/checkout/sessions"].startswith("card-update-")
    assert all(key for _, key in fake.idempotency_keys)
