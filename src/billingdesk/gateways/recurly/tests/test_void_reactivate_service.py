"""Voiding an open Recurly invoice and reactivating a subscription canceled at term end, as
an agent runs them through the action service (previewed, then run through the real
connector and the fake), and the service's refusals before any call to Recurly."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.services import action_key_issue, action_preview, action_submit
from billingdesk.billing.models import Customer, Invoice, Mirrored, Subscription
from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import limit_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana() -> User:
    user = User.objects.create_user("ana", password="pw", first_name="Ana")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    limit_set(Role.AGENT, 100_00, currency="USD")
    limit_set(Role.AGENT, 100_00, kind="payment_request", currency="USD")
    return user


def _run(user: User, kind: ActionKind, target: Mirrored, **params: object) -> ActionRequest:
    return action_submit(
        user=user, kind=kind, target=target, params=dict(params),
        reason_code="requested_by_customer", reason_text="asked by email",
        idempotency_key=action_key_issue(user=user), ip="127.0.0.1",
    )  # fmt: skip


def _writes(fake: RecurlyFake) -> int:
    return sum(1 for method, _ in fake.requests if method in ("POST", "PUT", "DELETE"))


def test_an_open_invoice_is_previewed_and_voided(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    buyer = fake.add_account(site, email="late@example.com")
    account_backfill(account=account)
    customer = Customer.objects.get(account=account, gateway_id=buyer["id"])
    asked = _run(
        ana, ActionKind.PAYMENT_REQUEST, customer, amount=4550, currency="USD",
        description="Consulting",
    )  # fmt: skip
    assert asked.status == "succeeded", asked.error
    invoice = Invoice.objects.get(account=account, gateway_id=asked.result_ids[0])
    assert invoice.status == "open"

    preview = action_preview(user=ana, kind=ActionKind.VOID_INVOICE, target=invoice, params={})
    assert preview.allowed, preview.refusal
    assert (
        f"The invoice {invoice.number} ($45.50 due) is voided at Recurly; the customer owes "
        "nothing on it."
    ) in preview.lines

    done = _run(ana, ActionKind.VOID_INVOICE, invoice)
    assert done.status == "succeeded", (done.status, done.error)
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert site.invoices[invoice.gateway_id]["state"] == "voided"


def test_a_paid_invoice_is_refused_before_any_call(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    buyer = fake.add_account(site, email="paid@example.com")
    fake.add_card(site, buyer["id"])
    paid = fake.purchase(site, buyer["id"], "60.00")
    account_backfill(account=account)
    invoice = Invoice.objects.get(account=account, gateway_id=paid["id"])
    writes = _writes(fake)

    preview = action_preview(user=ana, kind=ActionKind.VOID_INVOICE, target=invoice, params={})
    assert not preview.allowed
    assert preview.refusal == "A paid invoice cannot be voided: refund its payment instead."
    with pytest.raises(NotAllowed, match="refund its payment instead"):
        _run(ana, ActionKind.VOID_INVOICE, invoice)

    assert _writes(fake) == writes
    assert site.invoices[paid["id"]]["state"] == "paid"
    assert not ActionRequest.objects.filter(kind=ActionKind.VOID_INVOICE).exists()
    assert AuditEntry.objects.get(action=ActionKind.VOID_INVOICE).result == "refused"


def test_a_subscription_canceled_at_term_end_is_reactivated(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    fake.add_plan(site, "pro", amount="30.00", name="Pro")
    buyer = fake.add_account(site, email="back@example.com")
    fake.add_card(site, buyer["id"])
    sub = fake.add_subscription(site, buyer["id"], "pro")
    account_backfill(account=account)
    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])

    refused = action_preview(
        user=ana, kind=ActionKind.REACTIVATE_SUBSCRIPTION, target=subscription, params={}
    )
    assert refused.refusal == (
        "This subscription is not set to cancel: there is nothing to reactivate."
    )

    _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=True)
    subscription.refresh_from_db()
    preview = action_preview(
        user=ana, kind=ActionKind.REACTIVATE_SUBSCRIPTION, target=subscription, params={}
    )
    assert preview.allowed, preview.refusal
    assert preview.lines[0].startswith("Pro is reactivated at Recurly: it no longer ends on ")

    done = _run(ana, ActionKind.REACTIVATE_SUBSCRIPTION, subscription)
    assert done.status == "succeeded", (done.status, done.error)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", False)
    assert site.subscriptions[sub["id"]]["state"] == "active"


def test_an_ended_subscription_is_refused_before_any_call(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    fake.add_plan(site, "pro", amount="30.00", name="Pro")
    buyer = fake.add_account(site, email="gone@example.com")
    fake.add_card(site, buyer["id"])
    sub = fake.add_subscription(site, buyer["id"], "pro")
    account_backfill(account=account)
    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=False)
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    writes = _writes(fake)

    with pytest.raises(NotAllowed, match="already ended: it cannot be reactivated"):
        _run(ana, ActionKind.REACTIVATE_SUBSCRIPTION, subscription)
    assert _writes(fake) == writes
    assert site.subscriptions[sub["id"]]["state"] == "expired"


def test_cancel_now_with_a_full_refund_from_the_panel_form(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    """The cancel form offers Recurly's refund choices; ``now_refund_full`` terminates with
    ``refund=full`` (a credit invoice), and the preview says so before."""
    fake.add_plan(site, "pro", amount="30.00", name="Pro")
    buyer = fake.add_account(site, email="refund@example.com")
    fake.add_card(site, buyer["id"])
    sub = fake.add_subscription(site, buyer["id"], "pro")
    account_backfill(account=account)
    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    client = Client()
    client.force_login(ana)
    url = f"/console/actions/cancel_subscription/subscription/{subscription.pk}/"

    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="now_refund_partial"' in form and 'value="now_refund_full"' in form
    key = re.search(r'name="key" value="([^"]+)"', form)
    assert key
    review = client.post(
        f"{url}review/", {"key": key.group(1), "when": "now_refund_full"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "The subscription&#x27;s last paid invoice is refunded in full." in review
    assert "Recurly terminates it now, refunding its last invoice (refund=full)." in review
    client.post(
        f"{url}confirm/",
        {"key": key.group(1), "when": "now_refund_full", "reason_code": "billing_error"},
        HTTP_HX_REQUEST="true",
    )

    done = ActionRequest.objects.get(kind=ActionKind.CANCEL_SUBSCRIPTION)
    assert (done.status, done.params) == ("succeeded", {"at_period_end": False, "refund": "full"})
    assert site.subscriptions[sub["id"]]["state"] == "expired"
    credits = [i for i in site.invoices.values() if i["type"] == "credit"]
    assert len(credits) == 1 and credits[0]["total"] == -30
    assert ("DELETE", f"/subscriptions/{sub['id']}") in fake.requests


def test_a_refund_with_a_cancellation_at_period_end_is_refused(
    fake: RecurlyFake, site: Site, account: GatewayAccount, ana: User
) -> None:
    fake.add_plan(site, "pro", amount="30.00", name="Pro")
    buyer = fake.add_account(site, email="mix@example.com")
    sub = fake.add_subscription(site, buyer["id"], "pro")
    account_backfill(account=account)
    subscription = Subscription.objects.get(account=account, gateway_id=sub["id"])
    writes = _writes(fake)
    with pytest.raises(InvalidRequest, match="only with cancelling now"):
        _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=True, refund="full")
    with pytest.raises(InvalidRequest, match="none, partial or full"):
        _run(ana, ActionKind.CANCEL_SUBSCRIPTION, subscription, at_period_end=False, refund="half")
    assert _writes(fake) == writes
