"""WooCommerce records through the action service, as an agent runs them from the panel:
backfilled first, then previewed and acted on through the real connector."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.billing.models import Charge, Mirrored, Refund, Subscription
from billingdesk.core.errors import NotAllowed
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import limit_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    user = User.objects.create_user("ana", password="pw", first_name="Ana")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    limit_set(Role.AGENT, 100_00)
    return user


def _run(user: User, kind: ActionKind, target: Mirrored, **params: object) -> ActionRequest:
    return action_submit(
        user=user,
        kind=kind,
        target=target,
        params=dict(params),
        reason_code="requested_by_customer",
        reason_text="asked by email",
        idempotency_key=action_key_issue(user=user),
        ip="127.0.0.1",
    )


def test_an_order_is_refunded_and_a_subscription_cancelled_from_the_panel(
    fake: WooFake, shop: Shop, account: GatewayAccount, ana: User
) -> None:
    buyer = fake.add_customer(shop, email="buyer@example.com")
    order = fake.add_order(shop, customer=buyer, items=[("Desk", 1, "60.00")], number="3001",
                           payment_method="ppcp-gateway")  # fmt: skip
    fake.add_subscription(shop, customer=buyer, total="15.00")
    account_backfill(account=account)

    charge = Charge.objects.get(account=account, order_id="3001")
    preview = action_preview(user=ana, kind=ActionKind.REFUND, target=charge,
                             params={"amount": 2500})  # fmt: skip
    assert preview.allowed
    assert any("payment method (PayPal) to send the money back" in line for line in preview.lines)

    done = _run(ana, ActionKind.REFUND, charge, amount=2500)
    assert done.status == "succeeded", (done.status, done.error)
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (2500, "partially_refunded")
    assert Refund.objects.get(account=account).amount == 2500
    assert shop.gateway_refunds == [(order["id"], "25.00")]

    sub = Subscription.objects.get(account=account)
    done = _run(ana, ActionKind.CANCEL_SUBSCRIPTION, sub, at_period_end=True)
    assert done.status == "succeeded", (done.status, done.error)
    sub.refresh_from_db()
    assert sub.cancel_at_period_end and sub.status == "active"


def test_the_preview_says_when_the_payment_method_cannot_refund(
    fake: WooFake, shop: Shop, account: GatewayAccount, ana: User
) -> None:
    buyer = fake.add_customer(shop, email="buyer@example.com")
    fake.add_order(shop, customer=buyer, number="3002", payment_method="bacs")
    account_backfill(account=account)
    charge = Charge.objects.get(account=account, order_id="3002")
    preview = action_preview(user=ana, kind=ActionKind.REFUND, target=charge,
                             params={"amount": 500})  # fmt: skip
    assert any("(Direct bank transfer) cannot refund automatically" in x for x in preview.lines)
    with pytest.raises(NotAllowed, match="cannot refund automatically"):
        _run(ana, ActionKind.REFUND, charge, amount=500)
    assert shop.refunds[int(charge.gateway_id)] == []
