"""Actions on a Braintree account through the SDK, against the fake gateway."""

from __future__ import annotations

import pytest
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    CapabilityMissing,
    GatewayUnavailable,
    NotAllowed,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.braintree.connector import BraintreeConnector
from billingdesk.gateways.models import GatewayAccount

from .conftest import customer_with_card, make_account

pytestmark = pytest.mark.django_db


def _charge(result: gw.ActionResult, charge_id: str | None = None) -> gw.GwCharge:
    return next(
        o
        for o in result.objects
        if isinstance(o, gw.GwCharge) and (charge_id is None or o.id == charge_id)
    )


def test_a_refund_before_settlement_is_refused_with_void_offered_and_void_works(
    fake: BraintreeFake, connector: BraintreeConnector, merchant: Merchant
) -> None:
    _, token = customer_with_card(fake, merchant, "v@example.com")
    sale = fake.add_sale(merchant, token=token, amount="25.00", settle=False)
    assert sale["status"] == "submitted_for_settlement"

    with pytest.raises(NotAllowed, match=r"not settled yet.*Void it instead"):
        connector.refund_create(charge_id=sale["id"], amount=None, reason="", idempotency_key="r1")
    assert sale["refund_ids"] == []  # nothing was sent

    voided = connector.charge_void(charge_id=sale["id"], idempotency_key="v1")
    assert _charge(voided).status is gw.ChargeStatus.VOIDED
    again = connector.charge_void(charge_id=sale["id"], idempotency_key="v1")
    assert _charge(again).status is gw.ChargeStatus.VOIDED


def test_a_settled_payment_cannot_be_voided_and_says_refund(
    fake: BraintreeFake, connector: BraintreeConnector, merchant: Merchant
) -> None:
    _, token = customer_with_card(fake, merchant, "s@example.com")
    sale = fake.add_sale(merchant, token=token, amount="25.00")
    with pytest.raises(NotAllowed, match="refund it instead"):
        connector.charge_void(charge_id=sale["id"], idempotency_key="v2")


def test_authorise_then_capture_part_of_it(
    fake: BraintreeFake, connector: BraintreeConnector, merchant: Merchant
) -> None:
    cid, _ = customer_with_card(fake, merchant, "a@example.com")
    held = connector.charge_authorize(
        customer_id=cid, amount=5000, currency="EUR", description="", idempotency_key="a1"
    )
    charge = _charge(held)
    assert charge.status is gw.ChargeStatus.AUTHORIZED and charge.amount == 5000
    # The same key again: Braintree answers with the first sale, no second one is made.
    again = connector.charge_authorize(
        customer_id=cid, amount=5000, currency="EUR", description="", idempotency_key="a1"
    )
    assert _charge(again).id == charge.id
    assert sum(1 for t in merchant.transactions.values() if t["type"] == "sale") == 1

    with pytest.raises(AmountTooLarge):
        connector.charge_capture(charge_id=charge.id, amount=5001, idempotency_key="c0")
    captured = connector.charge_capture(charge_id=charge.id, amount=3000, idempotency_key="c1")
    assert _charge(captured).status is gw.ChargeStatus.CAPTURED
    assert _charge(captured).amount_captured == 3000
    assert merchant.transactions[charge.id]["status"] == "submitted_for_settlement"
    # A retry once captured reports the state, it does not fail.
    assert (
        _charge(
            connector.charge_capture(charge_id=charge.id, amount=3000, idempotency_key="c1")
        ).amount_captured
        == 3000
    )


def test_a_full_refund_of_a_settled_sale_and_then_no_more(
    fake: BraintreeFake, connector: BraintreeConnector, merchant: Merchant
) -> None:
    _, token = customer_with_card(fake, merchant, "f@example.com")
    sale = fake.add_sale(merchant, token=token, amount="19.99")
    result = connector.refund_create(
        charge_id=sale["id"], amount=None, reason="", idempotency_key="f1"
    )
    assert _charge(result, sale["id"]).status is gw.ChargeStatus.REFUNDED
    refund = next(o for o in result.objects if isinstance(o, gw.GwRefund))
    assert refund.amount == 1999 and merchant.transactions[refund.id]["amount"] == "19.99"
    with pytest.raises(AmountTooLarge, match="already been refunded in full"):
        connector.refund_create(charge_id=sale["id"], amount=None, reason="", idempotency_key="f2")


def test_a_yen_refund_is_sent_without_decimals(fake: BraintreeFake) -> None:
    account = make_account(fake, merchant_id="tokyo", currency="JPY")
    m = fake.merchants["tokyo"]
    _, token = customer_with_card(fake, m, "jp@example.com")
    sale = fake.add_sale(m, token=token, amount="3000")
    connector = BraintreeConnector(account)
    result = connector.refund_create(
        charge_id=sale["id"], amount=1200, reason="", idempotency_key="y"
    )
    refund = next(o for o in result.objects if isinstance(o, gw.GwRefund))
    assert refund.amount == 1200 and m.transactions[refund.id]["amount"] == "1200"


def test_subscriptions_created_on_the_vaulted_card_once_discounted_once_and_canceled_now(
    fake: BraintreeFake, connector: BraintreeConnector, merchant: Merchant
) -> None:
    cid, token = customer_with_card(fake, merchant, "sub@example.com")
    fake.add_plan(merchant, "gold", price="29.00")
    fake.add_discount(merchant, "loyal", amount="4.00")

    first = connector.subscription_create(customer_id=cid, plan="gold", idempotency_key="s1")
    again = connector.subscription_create(customer_id=cid, plan="gold", idempotency_key="s1")
    sub = next(o for o in first.objects if isinstance(o, gw.GwSubscription))
    assert [o.id for o in again.objects if isinstance(o, gw.GwSubscription)] == [sub.id]
    assert len(merchant.subscriptions) == 1
    assert (sub.customer_id, sub.plan, sub.amount) == (cid, "gold", 2900)
    assert merchant.subscriptions[sub.id]["payment_method_token"] == token

    for _ in range(2):
        applied = connector.coupon_apply(coupon_id="loyal", customer_id=cid, idempotency_key="d1")
        assert [o.coupon_id for o in applied.objects if isinstance(o, gw.GwDiscount)] == ["loyal"]
    assert len(merchant.subscriptions[sub.id]["discounts"]) == 1

    with pytest.raises(CapabilityMissing, match="cancels a subscription at once"):
        connector.subscription_cancel(
            subscription_id=sub.id, at_period_end=True, idempotency_key="x"
        )
    for _ in range(2):
        canceled = connector.subscription_cancel(
            subscription_id=sub.id, at_period_end=False, idempotency_key="x"
        )
        state = next(o for o in canceled.objects if isinstance(o, gw.GwSubscription))
        assert state.status is gw.SubscriptionStatus.CANCELED and state.canceled_at is not None


def test_unsupported_actions_are_declared_missing(connector: BraintreeConnector) -> None:
    for name, kwargs in [
        ("invoice_send", {"invoice_id": "i", "idempotency_key": "k"}),
        (
            "tax_id_add",
            {"customer_id": "c", "tax_type": "eu_vat", "value": "x", "idempotency_key": "k"},
        ),
        (
            "payment_request_create",
            {
                "customer_id": "c",
                "amount": 1,
                "currency": "EUR",
                "description": "",
                "idempotency_key": "k",
            },
        ),
    ]:
        with pytest.raises(CapabilityMissing):
            getattr(connector, name)(**kwargs)


def test_credentials_are_checked_against_the_api(fake: BraintreeFake) -> None:
    good = make_account(fake, merchant_id="ok")
    BraintreeConnector(good).check_credentials()
    bad = GatewayAccount(
        kind="braintree", name="bad", credentials={**good.credentials, "private_key": "wrong"}
    )
    with pytest.raises(AuthenticationFailed):
        BraintreeConnector(bad).check_credentials()
    unknown_merchant = GatewayAccount(
        kind="braintree", name="bad2", credentials={**good.credentials, "merchant_id": "nobody"}
    )
    with pytest.raises(AuthenticationFailed):
        BraintreeConnector(unknown_merchant).check_credentials()


def test_reads_are_retried_on_a_5xx_and_writes_are_not(
    fake: BraintreeFake,
    account: GatewayAccount,
    merchant: Merchant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("billingdesk.gateways.braintree.client.time.sleep", lambda s: None)
    connector = BraintreeConnector(account)
    fake.fail_next(500, times=2)
    assert connector.list_page(gw.ObjectKind.COUPON, None).objects == []  # third try answers
    _, token = customer_with_card(fake, merchant, "w@example.com")
    sale = fake.add_sale(merchant, token=token, amount="10.00")
    fake.fail_next(503, path_contains="/refund")
    fake.requests.clear()
    with pytest.raises(GatewayUnavailable):
        connector.refund_create(charge_id=sale["id"], amount=100, reason="", idempotency_key="w")
    assert [p for _, p in fake.requests if p.endswith("/refund")] == [
        f"/merchants/shop/transactions/{sale['id']}/refund"
    ]  # sent once: the caller retries with the same key, not the client blindly
    # That retry goes through (the key was never used: the failure came before it).
    retried = connector.refund_create(
        charge_id=sale["id"], amount=100, reason="", idempotency_key="w"
    )
    assert [o.amount for o in retried.objects if isinstance(o, gw.GwRefund)] == [100]
