"""Backfill of a Braintree account through the SDK, against the fake gateway."""

from __future__ import annotations

import pytest
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.billing.models import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Dispute,
    PaymentMethod,
    Refund,
    Subscription,
)
from billingdesk.gateways.braintree import connector as connector_module
from billingdesk.gateways.braintree.connector import BraintreeConnector
from billingdesk.gateways.interface import ObjectKind
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill

from .conftest import customer_with_card, make_account

pytestmark = pytest.mark.django_db


def test_backfill_mirrors_customers_methods_subscriptions_sales_refunds_and_disputes(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant
) -> None:
    m = merchant
    cid, token = customer_with_card(
        fake, m, "ada@example.com", number="5555555555554444", card_type="MasterCard", exp=(3, 2031)
    )
    paypal = fake.add_paypal_account(m, cid, email="ada.pp@example.com")
    fake.add_plan(m, "gold", price="29.95", frequency=3)
    fake.add_discount(m, "welcome", amount="5.00")
    sub = fake._subscription(
        m,
        {
            "plan_id": "gold",
            "payment_method_token": token,
            "discounts": {"add": [{"inherited_from_id": "welcome"}]},
        },
    )
    assert isinstance(sub, dict)
    sale = fake.add_sale(m, token=token, amount="80.00")
    fake._refund(m, sale, {"amount": "30.00"})
    held = fake.add_sale(m, token=paypal["token"], amount="12.50", submit=False)
    disputed = fake.add_sale(m, token=token, amount="40.00")
    fake.add_dispute(m, disputed["id"], reason="fraud")

    run = account_backfill(account=account)

    assert run.status == "done", run.error
    customer = Customer.objects.get(account=account, gateway_id=cid)
    assert (customer.email, customer.name) == ("ada@example.com", "Ada Lovelace")
    methods = {pm.gateway_id: pm for pm in PaymentMethod.objects.filter(account=account)}
    card = methods[token]
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == (
        "mastercard",
        "4444",
        3,
        2031,
    )
    assert card.is_default and card.customer_id == customer.pk
    assert methods[paypal["token"]].method_type == "paypal"
    mirrored_sub = Subscription.objects.get(account=account, gateway_id=sub["id"])
    assert (mirrored_sub.plan, mirrored_sub.amount, mirrored_sub.currency) == ("gold", 2995, "EUR")
    assert mirrored_sub.interval_count == 3 and mirrored_sub.status == "active"
    assert mirrored_sub.customer_id == customer.pk
    assert Coupon.objects.get(account=account, gateway_id="welcome").amount_off == 500
    assert Discount.objects.get(account=account, subscription=mirrored_sub).coupon.gateway_id == (
        "welcome"
    )
    charge = Charge.objects.get(account=account, gateway_id=sale["id"])
    assert (charge.amount, charge.amount_refunded, charge.status) == (
        8000,
        3000,
        "partially_refunded",
    )
    assert [e["status"] for e in charge.raw["status_history"]] == [
        "authorized",
        "submitted_for_settlement",
        "settled",
    ]
    refund = Refund.objects.get(account=account, charge=charge)
    assert (refund.amount, refund.status) == (3000, "succeeded")
    authorisation = Charge.objects.get(account=account, gateway_id=held["id"])
    assert authorisation.status == "authorized" and authorisation.card_brand == "paypal"
    dispute = Dispute.objects.get(account=account)
    assert dispute.charge.gateway_id == disputed["id"] and dispute.amount == 4000
    assert dispute.status == "needs_response" and dispute.reason == "fraud"


def test_amounts_follow_the_currency_exponent(fake: BraintreeFake) -> None:
    account = make_account(fake, merchant_id="tokyo", currency="JPY")
    m = fake.merchants["tokyo"]
    _, token = customer_with_card(fake, m, "jp@example.com")
    sale = fake.add_sale(m, token=token, amount="1500")

    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=sale["id"])
    assert (charge.amount, charge.currency) == (1500, "JPY")


def test_api_calls_grow_with_pages_not_objects(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant
) -> None:
    for n in range(120):
        _, token = customer_with_card(fake, merchant, f"p{n}@example.com")
        fake.add_sale(merchant, token=token, amount="10.00")
    fake.requests.clear()

    connector = BraintreeConnector(account)
    assert connector.estimate_total(ObjectKind.CUSTOMER) == 120
    page = connector.list_page(ObjectKind.CUSTOMER, None)  # reuses that search
    assert sum(o.kind is ObjectKind.CUSTOMER for o in page.objects) == 120
    # The estimate's id search, then the page: an id-list search, 3 fetches of 50 at most.
    assert len(fake.requests) == 5
    fake.requests.clear()

    account_backfill(account=account)

    assert Customer.objects.filter(account=account).count() == 120
    assert Charge.objects.filter(account=account).count() == 120
    # Per kind: one id search for the window, then per page of 200 an id-list search and a
    # fetch per 50: customers 1 + 1 + 3, discounts 1, transactions 1 + 1 + 3, disputes 1.
    assert len(fake.requests) == 12


def test_a_window_at_the_search_cap_is_split_and_nothing_is_lost_or_doubled(
    fake: BraintreeFake,
    account: GatewayAccount,
    merchant: Merchant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connector_module, "SEARCH_LIMIT", 4)
    monkeypatch.setattr(BraintreeConnector, "page_size", 3)
    for n in range(11):
        fake.add_customer(merchant, email=f"w{n}@example.com")

    run = account_backfill(account=account)

    assert run.status == "done", run.error
    emails = sorted(Customer.objects.filter(account=account).values_list("email", flat=True))
    assert emails == sorted(f"w{n}@example.com" for n in range(11))
    # Each window searched held fewer ids than the cap.
    assert run.counts.get("customer") == 11
