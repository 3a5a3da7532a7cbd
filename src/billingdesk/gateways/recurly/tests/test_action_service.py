"""Recurly records through the action service, as an agent runs them from the panel:
backfilled first, previewed (the credit invoice a refund issues; whether a cancellation ends
now without refund or at term end), then acted on through the real connector and the fake."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.billing.models import Charge, Invoice, Mirrored, Refund, Subscription
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import limit_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    user = User.objects.create_user("ana", password="pw", first_name="Ana")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    limit_set(Role.AGENT, 100_00, currency="USD")
    return user


def _run(user: User, kind: ActionKind, target: Mirrored, **params: object) -> ActionRequest:
    return action_submit(
        user=user, kind=kind, target=target, params=dict(params),
        reason_code="requested_by_customer", reason_text="asked by email",
        idempotency_key=action_key_issue(user=user), ip="127.0.0.1",
    )  # fmt: skip


def test_refund_and_cancel_previewed_then_run(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    fake.add_plan(site, "pro", amount="30.00", name="Pro")
    buyer = fake.add_account(site, email="buyer@example.com")
    fake.add_card(site, buyer["id"], last4="4242")
    paid = fake.purchase(site, buyer["id"], "60.00")
    sub = fake.add_subscription(site, buyer["id"], "pro")
    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=paid["transactions"][0])
    preview = action_preview(
        user=ana, kind=ActionKind.REFUND, target=charge, params={"amount": 2500}
    )
    assert preview.allowed, preview.refusal
    assert (
        f"Recurly will issue a credit invoice of $25.00 against invoice #{paid['number']}, "
        "and refund $25.00 to visa •••• 4242."
    ) in preview.lines

    done = _run(ana, ActionKind.REFUND, charge, amount=2500)
    assert done.status == "succeeded", (done.status, done.error)
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (2500, "partially_refunded")
    assert Refund.objects.get(charge=charge).amount == 2500
    credit = Invoice.objects.get(account=account, number=f"CR-{int(paid['number']) + 2}")
    assert credit.total == -2500

    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    later = action_preview(
        user=ana, kind=ActionKind.CANCEL_SUBSCRIPTION, target=subscription,
        params={"at_period_end": True},
    )  # fmt: skip
    assert any("can be reactivated" in line for line in later.lines)
    now = action_preview(
        user=ana, kind=ActionKind.CANCEL_SUBSCRIPTION, target=subscription,
        params={"at_period_end": False},
    )  # fmt: skip
    assert "Recurly terminates it now, without a refund (refund=none)." in now.lines

    _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=True)
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.cancel_at_period_end
    assert site.subscriptions[sub["id"]]["state"] == "canceled"
