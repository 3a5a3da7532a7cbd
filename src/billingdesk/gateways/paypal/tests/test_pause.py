"""Pausing (``/suspend``) and resuming (``/activate``) a PayPal subscription (issue 16),
against the PayPal fake (tests/fakes/paypal_api.py), which refuses the wrong status with
422 SUBSCRIPTION_STATUS_INVALID as PayPal does."""

from __future__ import annotations

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways import interface as gw
from billingdesk.gateways.paypal.connector import PayPalConnector


def _status(result: gw.ActionResult) -> gw.SubscriptionStatus:
    (sub,) = [o for o in result.objects if isinstance(o, gw.GwSubscription)]
    return sub.status


def test_pause_then_resume_and_retry(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    plan = fake.add_plan(merchant, name="Gold", price="9.00")
    sub = fake.add_subscription(merchant, plan, email="p@example.com")

    assert _status(
        connector.subscription_pause(subscription_id=sub["id"], idempotency_key="p1")
    ) is (gw.SubscriptionStatus.PAUSED)
    assert merchant.subscriptions[sub["id"]]["status"] == "SUSPENDED"
    # A retry finds it suspended already and sends nothing.
    connector.subscription_pause(subscription_id=sub["id"], idempotency_key="p1")
    assert fake.calls("/suspend") == 1

    assert _status(
        connector.subscription_resume(subscription_id=sub["id"], idempotency_key="r1")
    ) is (gw.SubscriptionStatus.ACTIVE)
    assert merchant.subscriptions[sub["id"]]["status"] == "ACTIVE"
    connector.subscription_resume(subscription_id=sub["id"], idempotency_key="r1")
    assert fake.calls("/activate") == 1


def test_cancelled_subscription_neither_pauses_nor_resumes(
    connector: PayPalConnector, fake: PayPalFake, merchant: Merchant
) -> None:
    plan = fake.add_plan(merchant, name="Gold", price="9.00")
    sub = fake.add_subscription(merchant, plan, email="c@example.com")
    connector.subscription_cancel(
        subscription_id=sub["id"], at_period_end=False, idempotency_key="c"
    )

    with pytest.raises(NotAllowed):
        connector.subscription_pause(subscription_id=sub["id"], idempotency_key="p")
    with pytest.raises(NotAllowed):
        connector.subscription_resume(subscription_id=sub["id"], idempotency_key="r")
    assert fake.calls("/suspend") == fake.calls("/activate") == 0
