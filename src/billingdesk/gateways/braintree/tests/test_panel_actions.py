"""Braintree records through the action service, as an agent runs them from the panel:
backfilled first, then acted on through the real connector against the fake gateway."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.billing.models import Charge, Mirrored, Refund, Subscription
from billingdesk.core.errors import CapabilityMissing, NotAllowed
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import limit_set

from .conftest import customer_with_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    user = User.objects.create_user("ana", password="pw", first_name="Ana")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    limit_set(Role.AGENT, 100_00)  # refunds of up to 100 EUR without approval
    return user


def _run(user: User, kind: ActionKind, target: Mirrored, **params: object) -> ActionRequest:
    return action_submit(
        user=user,
        kind=kind,
        target=target,
        params=dict(params),
        reason_code="requested_by_customer",
        reason_text="asked by phone",
        idempotency_key=action_key_issue(user=user),
        ip="127.0.0.1",
    )


def test_refund_void_and_immediate_cancel_through_the_action_service(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant, ana: User
) -> None:
    _, token = customer_with_card(fake, merchant, "buyer@example.com")
    fake.add_plan(merchant, "gold", price="15.00")
    settled = fake.add_sale(merchant, token=token, amount="60.00")
    unsettled = fake.add_sale(merchant, token=token, amount="20.00", settle=False)
    sub = fake._subscription(merchant, {"plan_id": "gold", "payment_method_token": token})
    assert isinstance(sub, dict)
    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=settled["id"])
    done = _run(ana, ActionKind.REFUND, charge, amount=2500)
    assert done.status == "succeeded", (done.status, done.error)
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (2500, "partially_refunded")
    assert Refund.objects.get(charge=charge).amount == 2500

    pending = Charge.objects.get(account=account, gateway_id=unsettled["id"])
    with pytest.raises(NotAllowed, match="Void it instead"):
        _run(ana, ActionKind.REFUND, pending, amount=None)
    _run(ana, ActionKind.VOID, pending)
    pending.refresh_from_db()
    assert pending.status == "voided"

    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    with pytest.raises(CapabilityMissing, match="cancels a subscription at once"):
        _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=True)
    preview = action_preview(
        user=ana, kind=ActionKind.CANCEL_SUBSCRIPTION, target=subscription, params={}
    )
    assert any("immediately" in line for line in preview.lines)
    _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription)  # default: now
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert merchant.subscriptions[sub["id"]]["status"] == "Canceled"


def test_braintree_cannot_pause(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant, ana: User
) -> None:
    """Braintree has no pause: the capability is not declared, so nothing offers it and the
    service refuses it without calling the gateway."""
    from billingdesk.actions.services import actions_available

    _, token = customer_with_card(fake, merchant, "pause@example.com")
    fake.add_plan(merchant, "gold", price="15.00")
    fake._subscription(merchant, {"plan_id": "gold", "payment_method_token": token})
    account_backfill(account=account)
    subscription = Subscription.objects.get(account=account)

    assert ActionKind.PAUSE_SUBSCRIPTION not in actions_available(user=ana, target=subscription)
    with pytest.raises(CapabilityMissing):
        _run(ana, ActionKind.PAUSE_SUBSCRIPTION, subscription)
    assert not ActionRequest.objects.filter(kind=ActionKind.PAUSE_SUBSCRIPTION).exists()
