"""PayPal records through the action service, as an agent runs them from the panel:
backfilled first, then acted on through the real connector against the fake API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from tests.fakes.paypal_api import Merchant, PayPalFake

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.billing.models import (
    Charge,
    Customer,
    Invoice,
    Mirrored,
    Refund,
    Subscription,
)
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
        reason_text="asked by phone",
        idempotency_key=action_key_issue(user=user),
        ip="127.0.0.1",
    )


def test_refund_cancel_and_approval_links_through_the_action_service(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant, ana: User
) -> None:
    capture = fake.add_payment(merchant, email="buyer@example.com", amount="60.00")
    plan = fake.add_plan(merchant, name="Gold", price="15.00")
    sub = fake.add_subscription(merchant, plan, email="buyer2@example.com")
    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=capture["id"])
    done = _run(ana, ActionKind.REFUND, charge, amount=2500)
    assert done.status == "succeeded", (done.status, done.error)
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (2500, "partially_refunded")
    assert Refund.objects.get(charge=charge).amount == 2500

    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=False)
    subscription.refresh_from_db()
    assert subscription.status == "canceled"

    customer = Customer.objects.get(account=account, email="buyer@example.com")
    preview = action_preview(
        user=ana, kind=ActionKind.CREATE_SUBSCRIPTION, target=customer,
        params={"plan": plan["id"], "quantity": 1},
    )  # fmt: skip
    assert preview.allowed, preview.refusal
    assert any("must approve it through the link" in line for line in preview.lines)
    created = _run(ana, ActionKind.CREATE_SUBSCRIPTION, customer, plan=plan["id"], quantity=1)
    assert created.status == "succeeded", created.error
    assert created.url.startswith("https://www.sandbox.paypal.com/")
    sub_id = "I-" + created.url.split("ba_token=BA-")[1]  # the fake's token names it
    pending = Subscription.objects.get(account=account, gateway_id=sub_id)
    assert (pending.status, pending.customer) == ("incomplete", customer)


def test_an_agent_sends_an_open_paypal_invoice_and_is_told_why_not_a_paid_one(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant, ana: User
) -> None:
    open_one = fake.add_invoice(merchant, email="inv@example.com", amount="30.00")
    paid_later = fake.add_invoice(merchant, email="inv@example.com", amount="8.00")
    account_backfill(account=account)
    fake.invoice_change(paid_later, "PAID")  # paid at PayPal after the mirror read it

    invoice = Invoice.objects.get(account=account, gateway_id=open_one["id"])
    sent = _run(ana, ActionKind.SEND_INVOICE, invoice)
    assert sent.status == "succeeded", sent.error
    assert merchant.invoice_sends == [
        (open_one["id"], {"send_to_invoicer": False, "send_to_recipient": True})
    ]

    stale = Invoice.objects.get(account=account, gateway_id=paid_later["id"])
    assert stale.status == "open"
    with pytest.raises(NotAllowed, match="already been paid"):
        _run(ana, ActionKind.SEND_INVOICE, stale)
    assert len(merchant.invoice_sends) == 1
    stale.refresh_from_db()
    assert stale.status == "paid"  # the refusal brought the invoice's state back
