"""A person with records at Recurly and at another gateway is one person; a Recurly
account's records (subscriptions, invoices, payments) hang on that one customer."""

from __future__ import annotations

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.billing.models import Charge, Customer, Invoice, Subscription
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill

pytestmark = pytest.mark.django_db


def test_the_same_email_at_recurly_and_the_sandbox_is_one_person(
    fake: RecurlyFake, site: Site, account: GatewayAccount
) -> None:
    other = GatewayAccount.objects.create(kind="sandbox", name="Other shop")
    SandboxEngine(other).customer_create(email="Grace@Example.com")
    fake.add_plan(site, "pro", amount="9.00")
    grace = fake.add_account(site, email="grace@example.com", first_name="Grace")
    fake.add_card(site, grace["id"])
    fake.add_subscription(site, grace["id"], "pro")

    account_backfill(account=other)
    account_backfill(account=account)

    recurly_customer = Customer.objects.get(account=account, gateway_id=grace["id"])
    sandbox_customer = Customer.objects.get(account=other)
    assert recurly_customer.person_id is not None
    assert recurly_customer.person_id == sandbox_customer.person_id
    assert Subscription.objects.get(account=account).customer == recurly_customer
    assert Invoice.objects.get(account=account).customer == recurly_customer
    assert Charge.objects.get(account=account).customer == recurly_customer
