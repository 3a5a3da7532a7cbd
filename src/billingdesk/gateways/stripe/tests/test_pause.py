"""Pausing and resuming a subscription through the Stripe connector (issue 14).

Fake: localstripe has no ``pause_collection``; the HTTP fake implements it as Stripe's
reference describes (``pause_collection[behavior]=void`` sets it, an empty value unsets it;
the status stays ``active``) and replays an ``Idempotency-Key``.
"""

from __future__ import annotations

import pytest

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways.interface import GwSubscription, SubscriptionStatus
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake


def _sub(fake: StripeFake, status: str = "active") -> str:
    fake.add(
        {
            "id": "sub_p",
            "object": "subscription",
            "customer": "cus_p",
            "status": status,
            "items": {"object": "list", "data": []},
            "cancel_at_period_end": False,
            "canceled_at": None,
            "pause_collection": None,
            "discounts": [],
        }
    )
    return "sub_p"


def _status(result: object) -> SubscriptionStatus:
    subs = [o for o in result.objects if isinstance(o, GwSubscription)]  # type: ignore[attr-defined]
    assert len(subs) == 1
    return subs[0].status


@pytest.mark.django_db
def test_pause_then_resume(fake: StripeFake, fake_account: GatewayAccount) -> None:
    sid = _sub(fake)
    connector = connector_for(fake_account)

    paused = connector.subscription_pause(subscription_id=sid, idempotency_key="p1")
    assert _status(paused) is SubscriptionStatus.PAUSED
    assert fake.objects[sid]["pause_collection"] == {"behavior": "void", "resumes_at": None}
    assert fake.objects[sid]["status"] == "active"  # Stripe's own status is unchanged

    resumed = connector.subscription_resume(subscription_id=sid, idempotency_key="r1")
    assert _status(resumed) is SubscriptionStatus.ACTIVE
    assert fake.objects[sid]["pause_collection"] is None
    assert (f"/v1/subscriptions/{sid}", "p1") in fake.idempotency_keys
    assert (f"/v1/subscriptions/{sid}", "r1") in fake.idempotency_keys


@pytest.mark.django_db
def test_retry_does_not_act_twice(fake: StripeFake, fake_account: GatewayAccount) -> None:
    sid = _sub(fake)
    connector = connector_for(fake_account)
    connector.subscription_pause(subscription_id=sid, idempotency_key="p1")
    again = connector.subscription_pause(subscription_id=sid, idempotency_key="p1")

    assert _status(again) is SubscriptionStatus.PAUSED
    assert fake.calls("POST", f"/v1/subscriptions/{sid}") == 1  # already paused: no write


@pytest.mark.django_db
def test_canceled_subscription_cannot_pause(fake: StripeFake, fake_account: GatewayAccount) -> None:
    sid = _sub(fake, status="canceled")
    with pytest.raises(NotAllowed):
        connector_for(fake_account).subscription_pause(subscription_id=sid, idempotency_key="p")
    assert fake.calls("POST", f"/v1/subscriptions/{sid}") == 0
