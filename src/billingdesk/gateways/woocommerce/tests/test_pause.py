"""Pausing (status on-hold) and resuming (active) a WooCommerce subscription (issue 17),
against the WooCommerce fake, which enforces the subscription status transitions."""

from __future__ import annotations

import pytest
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways import interface as gw
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector


def _puts(fake: WooFake) -> int:
    return sum(1 for method, path, _ in fake.log if method == "PUT" and "/subscriptions/" in path)


def test_pause_then_resume_and_retry(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    sub = fake.add_subscription(shop, customer=fake.add_customer(shop, email="p@example.com"))
    sid = str(sub["id"])

    paused = connector.subscription_pause(subscription_id=sid, idempotency_key="p1")
    assert isinstance(paused.objects[0], gw.GwSubscription)
    assert paused.objects[0].status is gw.SubscriptionStatus.PAUSED
    connector.subscription_pause(subscription_id=sid, idempotency_key="p1")  # a retry
    assert shop.subscriptions[sub["id"]]["status"] == "on-hold"
    assert _puts(fake) == 1

    resumed = connector.subscription_resume(subscription_id=sid, idempotency_key="r1")
    assert isinstance(resumed.objects[0], gw.GwSubscription)
    assert resumed.objects[0].status is gw.SubscriptionStatus.ACTIVE
    connector.subscription_resume(subscription_id=sid, idempotency_key="r1")
    assert shop.subscriptions[sub["id"]]["status"] == "active"
    assert _puts(fake) == 2


def test_a_cancelled_subscription_is_not_resumed(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    sub = fake.add_subscription(shop, customer=fake.add_customer(shop, email="c@example.com"))
    connector.subscription_cancel(
        subscription_id=str(sub["id"]), at_period_end=False, idempotency_key="c"
    )
    with pytest.raises(NotAllowed):
        connector.subscription_resume(subscription_id=str(sub["id"]), idempotency_key="r")
    with pytest.raises(NotAllowed):
        connector.subscription_pause(subscription_id=str(sub["id"]), idempotency_key="p")
    assert shop.subscriptions[sub["id"]]["status"] == "cancelled"
