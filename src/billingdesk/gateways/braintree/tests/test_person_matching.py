"""A person with records at Braintree and at another gateway is one person."""

from __future__ import annotations

import pytest
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.billing.models import Customer
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill

from .conftest import customer_with_card

pytestmark = pytest.mark.django_db


def test_the_same_email_at_braintree_and_the_sandbox_is_matched_to_one_person(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant
) -> None:
    other = GatewayAccount.objects.create(kind="sandbox", name="Other shop")
    SandboxEngine(other).customer_create(email="Grace@Example.com")
    cid, _ = customer_with_card(fake, merchant, "grace@example.com")

    account_backfill(account=other)
    account_backfill(account=account)

    braintree_customer = Customer.objects.get(account=account, gateway_id=cid)
    sandbox_customer = Customer.objects.get(account=other)
    assert braintree_customer.person_id is not None
    assert braintree_customer.person_id == sandbox_customer.person_id
