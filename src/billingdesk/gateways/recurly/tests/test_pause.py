"""Pausing and resuming a Recurly subscription (issue 17), against the Recurly fake:
``PUT /subscriptions/{id}/pause`` with ``remaining_pause_cycles`` schedules the pause for
the next renewal, ``PUT /subscriptions/{id}/resume`` ends it (or calls it off)."""

from __future__ import annotations

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways import interface as gw
from billingdesk.gateways.recurly.actions import PAUSE_CYCLES
from billingdesk.gateways.recurly.connector import RecurlyConnector


def _sub(fake: RecurlyFake, site: Site) -> dict[str, object]:
    fake.add_plan(site, "pro", amount="30.00")
    customer = fake.add_account(site, email="pause@example.com")
    fake.add_card(site, customer["id"])
    return fake.add_subscription(site, customer["id"], "pro")


def _status(result: gw.ActionResult) -> gw.SubscriptionStatus:
    (sub,) = [o for o in result.objects if isinstance(o, gw.GwSubscription)]
    return sub.status


def test_pause_then_resume_and_retry(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    sub = _sub(fake, site)
    sid = str(sub["id"])

    scheduled = connector.subscription_pause(subscription_id=sid, idempotency_key="p-1")
    assert _status(scheduled) is gw.SubscriptionStatus.ACTIVE  # until the renewal
    stored = site.subscriptions[sid]
    assert stored["remaining_pause_cycles"] == PAUSE_CYCLES
    assert stored["paused_at"] == stored["current_period_ends_at"]
    connector.subscription_pause(subscription_id=sid, idempotency_key="p-1")  # a retry
    assert fake.requests.count(("PUT", f"/subscriptions/{sid}/pause")) == 1

    fake.renew_into_pause(site, sid)
    assert _status(connector.subscription_resume(subscription_id=sid, idempotency_key="r-1")) is (
        gw.SubscriptionStatus.ACTIVE
    )
    assert site.subscriptions[sid]["state"] == "active"
    assert site.subscriptions[sid]["paused_at"] is None
    connector.subscription_resume(subscription_id=sid, idempotency_key="r-1")
    assert fake.requests.count(("PUT", f"/subscriptions/{sid}/resume")) == 1


def test_a_paused_subscription_is_mirrored_paused(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    sid = str(_sub(fake, site)["id"])
    connector.subscription_pause(subscription_id=sid, idempotency_key="p")
    fake.renew_into_pause(site, sid)
    again = connector.subscription_pause(subscription_id=sid, idempotency_key="p2")
    assert _status(again) is gw.SubscriptionStatus.PAUSED


def test_an_expired_subscription_neither_pauses_nor_resumes(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    sid = str(_sub(fake, site)["id"])
    connector.subscription_cancel(subscription_id=sid, at_period_end=False, idempotency_key="c")
    with pytest.raises(NotAllowed):
        connector.subscription_pause(subscription_id=sid, idempotency_key="p")
    with pytest.raises(NotAllowed):
        connector.subscription_resume(subscription_id=sid, idempotency_key="r")
    assert not [r for r in fake.requests if r[1].endswith(("/pause", "/resume"))]
