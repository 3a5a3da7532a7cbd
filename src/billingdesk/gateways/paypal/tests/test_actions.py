"""Agent actions on a PayPal account against the fake PayPal API, and the client's
discipline: token cache and renewal, idempotent writes, retries, plain error messages."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake

from billingdesk.billing.models import Charge
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    CapabilityMissing,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    RateLimited,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.paypal import mapping
from billingdesk.gateways.paypal.connector import PayPalConnector
from billingdesk.gateways.registry import connector_for

pytestmark = pytest.mark.django_db


def _charges(result: gw.ActionResult) -> dict[str, gw.GwCharge]:
    return {o.id: o for o in result.objects if isinstance(o, gw.GwCharge)}


def _refunds(result: gw.ActionResult) -> list[gw.GwRefund]:
    return [o for o in result.objects if isinstance(o, gw.GwRefund)]


# --- amounts ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1234, "EUR", "12.34"), (5, "USD", "0.05"), (1500, "JPY", "1500"), (123400, "HUF", "1234")],
)
def test_amounts_are_decimal_strings_with_the_currencys_exponent(
    minor: int, currency: str, text: str
) -> None:
    assert mapping.money(minor, currency) == {"currency_code": currency, "value": text}
    assert mapping.minor({"currency_code": currency, "value": text}) == (minor, currency)


def test_an_amount_paypal_cannot_take_is_refused_before_any_call() -> None:
    with pytest.raises(InvalidRequest):
        mapping.money(123456, "HUF")  # 1234.56 HUF: PayPal takes whole forints


# --- refunds --------------------------------------------------------------------------------
def test_partial_refunds_then_the_rest_and_an_over_refund_in_plain_words(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="r@example.com", amount="50.00")

    first = connector.refund_create(
        charge_id=capture["id"], amount=1250, reason="broken", idempotency_key="k1"
    )
    charge = _charges(first)[capture["id"]]
    assert (charge.amount_refunded, charge.status) == (1250, gw.ChargeStatus.PARTIALLY_REFUNDED)
    assert [r.amount for r in _refunds(first)] == [1250]
    assert merchant.refunds[first.request_id]["note_to_payer"] == "broken"

    with pytest.raises(AmountTooLarge) as caught:
        connector.refund_create(
            charge_id=capture["id"], amount=4000, reason="", idempotency_key="k2"
        )
    assert caught.value.message == (
        "Cannot refund €40.00: only €37.50 of this PayPal payment is left to refund."
    )

    rest = connector.refund_create(
        charge_id=capture["id"], amount=None, reason="", idempotency_key="k3"
    )
    charge = _charges(rest)[capture["id"]]
    assert (charge.amount_refunded, charge.status) == (5000, gw.ChargeStatus.REFUNDED)
    with pytest.raises(AmountTooLarge, match="already been refunded in full"):
        connector.refund_create(
            charge_id=capture["id"], amount=100, reason="", idempotency_key="k4"
        )


def test_every_write_carries_paypal_request_id_and_a_retry_refunds_once(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="r@example.com", amount="20.00")
    # The first answer is lost (503); the retry carries the same PayPal-Request-Id.
    fake.fail_next(503, path_contains="/refund")
    result = connector.refund_create(
        charge_id=capture["id"], amount=500, reason="", idempotency_key="same"
    )
    again = connector.refund_create(
        charge_id=capture["id"], amount=500, reason="", idempotency_key="same"
    )

    assert result.request_id == again.request_id
    assert len(merchant.refunds) == 1
    assert list(merchant.replays) == ["bd-refund-same"]


def test_a_refund_of_an_authorisation_says_to_void_it(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    auth = fake.add_authorization(merchant, email="h@example.com")
    with pytest.raises(NotAllowed, match="Void it instead"):
        connector.refund_create(charge_id=auth["id"], amount=None, reason="", idempotency_key="k")


def test_a_pending_payment_cannot_be_refunded_yet(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="p@example.com", status="PENDING")
    with pytest.raises(NotAllowed, match="still pending"):
        connector.refund_create(
            charge_id=capture["id"], amount=None, reason="", idempotency_key="k"
        )
    assert not merchant.refunds


# --- authorisations -----------------------------------------------------------------------------
def test_partial_capture_supersedes_the_authorisation_in_the_mirror(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant, account: GatewayAccount
) -> None:
    auth = fake.add_authorization(merchant, email="h@example.com", amount="30.00")
    mirror_upsert(account=account, objects=connector._order(auth["order_id"]))
    assert Charge.objects.get(account=account, gateway_id=auth["id"]).status == "authorized"

    with pytest.raises(AmountTooLarge, match=r"only €30\.00 was authorised"):
        connector.charge_capture(charge_id=auth["id"], amount=3001, idempotency_key="c0")
    result = connector.charge_capture(charge_id=auth["id"], amount=2000, idempotency_key="c1")
    mirror_upsert(account=account, objects=result.objects)

    capture = next(
        c for c in _charges(result).values() if c.alt_id == auth["id"] and c.id != auth["id"]
    )
    assert (capture.amount, capture.status) == (2000, gw.ChargeStatus.CAPTURED)
    rows = {c.gateway_id: c for c in Charge.objects.filter(account=account)}
    assert rows[auth["id"]].deleted and not rows[capture.id].deleted
    with pytest.raises(NotAllowed, match="already been captured"):
        connector.charge_capture(charge_id=auth["id"], amount=None, idempotency_key="c2")
    with pytest.raises(NotAllowed, match="refund it instead"):
        connector.charge_void(charge_id=auth["id"], idempotency_key="v1")


def test_void_releases_the_hold_and_a_second_void_changes_nothing(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    auth = fake.add_authorization(merchant, email="h@example.com")
    first = connector.charge_void(charge_id=auth["id"], idempotency_key="v1")
    assert _charges(first)[auth["id"]].status is gw.ChargeStatus.VOIDED
    again = connector.charge_void(charge_id=auth["id"], idempotency_key="v2")
    assert _charges(again)[auth["id"]].status is gw.ChargeStatus.VOIDED
    with pytest.raises(NotAllowed, match="voided"):
        connector.charge_capture(charge_id=auth["id"], amount=None, idempotency_key="c")


def test_authorise_on_the_vaulted_paypal_account_and_a_decline(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    good = fake.payer("vault@example.com")
    fake.add_vault_token(merchant, good["payer_id"], email="vault@example.com")
    result = connector.charge_authorize(
        customer_id=good["payer_id"], amount=1999, currency="EUR", description="Deposit",
        idempotency_key="a1",
    )  # fmt: skip
    (hold,) = _charges(result).values()
    assert (hold.status, hold.amount, hold.customer_id) == (
        gw.ChargeStatus.AUTHORIZED, 1999, good["payer_id"],
    )  # fmt: skip

    bad = fake.payer("no@example.com")
    fake.add_vault_token(merchant, bad["payer_id"], email="no@example.com", declines=True)
    with pytest.raises(CardDeclined) as caught:
        connector.charge_authorize(customer_id=bad["payer_id"], amount=100, currency="EUR",
                                   description="", idempotency_key="a2")  # fmt: skip
    assert caught.value.decline_code == "instrument_declined"
    assert caught.value.message.startswith("PayPal declined the payment: ")
    with pytest.raises(NotAllowed, match="no saved PayPal account"):
        connector.charge_authorize(customer_id="NOVAULT", amount=100, currency="EUR",
                                   description="", idempotency_key="a3")  # fmt: skip


# --- subscriptions and payment requests -----------------------------------------------------
def test_cancel_and_suspend_a_subscription(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    plan = fake.add_plan(merchant, name="Gold", price="9.00")
    paused = fake.add_subscription(merchant, plan, email="s1@example.com")
    ended = fake.add_subscription(merchant, plan, email="s2@example.com")

    with pytest.raises(CapabilityMissing, match="cancels a subscription at once"):
        connector.subscription_cancel(
            subscription_id=ended["id"], at_period_end=True, idempotency_key="x"
        )
    result = connector.subscription_cancel(
        subscription_id=ended["id"], at_period_end=False, idempotency_key="c1"
    )
    (sub,) = [o for o in result.objects if isinstance(o, gw.GwSubscription)]
    assert sub.status is gw.SubscriptionStatus.CANCELED and sub.canceled_at is not None
    # Again: already cancelled, nothing sent.
    before = fake.calls("/cancel")
    connector.subscription_cancel(
        subscription_id=ended["id"], at_period_end=False, idempotency_key="c2"
    )
    assert fake.calls("/cancel") == before

    result = connector.subscription_pause(subscription_id=paused["id"], idempotency_key="s1")
    (sub,) = [o for o in result.objects if isinstance(o, gw.GwSubscription)]
    assert sub.status is gw.SubscriptionStatus.PAUSED
    assert merchant.subscriptions[ended["id"]]["status"] == "CANCELLED"


def test_a_new_subscription_waits_for_the_customers_approval(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    plan = fake.add_plan(merchant, name="Gold", price="9.00")
    result = connector.subscription_create(
        customer_id="PAYER1", plan=plan["id"], idempotency_key="n1", quantity=2
    )
    (sub,) = [o for o in result.objects if isinstance(o, gw.GwSubscription)]
    assert sub.status is gw.SubscriptionStatus.INCOMPLETE and sub.customer_id == "PAYER1"
    assert (sub.quantity, sub.amount) == (2, 900)
    assert result.url.startswith("https://www.sandbox.paypal.com/webapps/billing/subscriptions")
    assert "approve" in PayPalConnector.subscription_approval_note
    with pytest.raises(CapabilityMissing):
        connector.subscription_create(
            customer_id="PAYER1", plan=plan["id"], idempotency_key="n2", coupon_id="X"
        )


def test_a_payment_request_is_an_order_approval_link(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    result = connector.payment_request_create(
        customer_id="PAYER1", amount=4200, currency="JPY", description="Invoice 7",
        idempotency_key="p1",
    )  # fmt: skip
    order = merchant.orders[result.request_id]
    assert result.url == f"https://www.sandbox.paypal.com/checkoutnow?token={order['id']}"
    assert order["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "4200"}


# --- credentials, tokens and errors ------------------------------------------------------------
def test_the_token_is_cached_per_account_and_renewed_when_it_expires(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant, account: GatewayAccount
) -> None:
    capture = fake.add_payment(merchant, email="t@example.com")
    for _ in range(3):
        connector_for(account).api.get(f"/v2/payments/captures/{capture['id']}")
    assert fake.calls("/v1/oauth2/token") == 1

    fake.expire_tokens()  # PayPal forgets the token before our clock says it expired
    connector.api.get(f"/v2/payments/captures/{capture['id']}")
    assert fake.calls("/v1/oauth2/token") == 2


def test_check_credentials_verifies_the_secret_and_the_webhook_id(
    fake: PayPalFake, merchant: Merchant, account: GatewayAccount
) -> None:
    connector_for(account).check_credentials()

    account.credentials = {**account.credentials, "webhook_id": "WH-unknown"}
    with pytest.raises(InvalidRequest, match="no webhook with id WH-unknown"):
        connector_for(account).check_credentials()

    account.credentials = {**account.credentials, "client_secret": "rotated"}
    with pytest.raises(AuthenticationFailed, match="refused the client id and secret"):
        connector_for(account).check_credentials()


def test_credentials_that_stop_working_are_an_expired_credentials_message(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="t@example.com")
    connector.api.get(f"/v2/payments/captures/{capture['id']}")
    merchant.secret = "rotated-at-paypal"
    fake.expire_tokens()
    with pytest.raises(AuthenticationFailed, match="refused the client id and secret"):
        connector.refund_create(
            charge_id=capture["id"], amount=None, reason="", idempotency_key="e"
        )


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (429, RateLimited, "rate-limiting"),
        (500, GatewayUnavailable, "having trouble (HTTP 500, INTERNAL_SERVER_ERROR)"),
        (503, GatewayUnavailable, "having trouble (HTTP 503, SERVICE_UNAVAILABLE)"),
    ],
)
def test_operational_errors_are_retried_with_backoff_then_said_plainly(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant, status: int,
    error: type[Exception], words: str,
) -> None:  # fmt: skip
    capture = fake.add_payment(merchant, email="t@example.com")
    connector.api.get(f"/v2/payments/captures/{capture['id']}")  # the token first
    fake.fail_next(status, times=2, path_contains="/captures/")
    assert connector.api.get(f"/v2/payments/captures/{capture['id']}")["id"] == capture["id"]

    fake.fail_next(status, times=10, path_contains="/captures/")
    before = fake.calls("/captures/")
    with pytest.raises(error) as caught:
        connector.api.get(f"/v2/payments/captures/{capture['id']}")
    assert words in str(caught.value)
    assert fake.calls("/captures/") - before == 1 + connector.max_retries
    fake.failures.clear()


def test_a_write_without_request_id_and_a_4xx_are_never_retried(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    connector.check_credentials()
    fake.fail_next(503, times=5, path_contains="/v1/billing/plans")
    before = fake.calls("/v1/billing/plans")
    with pytest.raises(GatewayUnavailable):
        connector.api.call("POST", "/v1/billing/plans", json={})
    assert fake.calls("/v1/billing/plans") - before == 1
    fake.failures.clear()

    capture = fake.add_payment(merchant, email="t@example.com", amount="10.00")
    before = fake.calls("/refund")
    with pytest.raises(AmountTooLarge):
        connector.refund_create(
            charge_id=capture["id"], amount=1001, reason="", idempotency_key="o"
        )
    assert fake.calls("/refund") - before == 1


def test_paypal_error_bodies_are_read_for_the_issue(settings: Any) -> None:
    from billingdesk.gateways.paypal.client import translate

    body = {
        "name": "UNPROCESSABLE_ENTITY",
        "message": "The requested action could not be performed.",
        "debug_id": "f1b2c3",
        "details": [{"issue": "SUBSCRIPTION_STATUS_INVALID", "description": "..."}],
    }
    assert isinstance(translate(422, body, "cancel the subscription"), NotAllowed)
    unknown = translate(
        422, {**body, "details": [{"issue": "X", "description": "Bad thing."}]}, "do it"
    )
    assert (
        type(unknown) is InvalidRequest
        and "Bad thing." in unknown.message
        and "f1b2c3" in unknown.message
    )
