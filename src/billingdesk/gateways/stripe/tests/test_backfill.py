"""Backfill from localstripe into the mirror.

Server: localstripe (a real Stripe-compatible server) for customers, cards, tax ids, charges,
refunds, authorisations, plans, subscriptions, invoices and coupons. localstripe has no
disputes endpoint, so the backfill goes through the HTTP fake placed in front of it: the fake
answers ``/v1/disputes`` itself and forwards every other request to localstripe unchanged,
which also lets the tests count the API calls the server received.
"""

from __future__ import annotations

import time

import pytest
import stripe

from billingdesk.billing.models import (
    Charge,
    Coupon,
    Customer,
    Dispute,
    Invoice,
    PaymentMethod,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.core.errors import GatewayUnavailable
from billingdesk.gateways.interface import ObjectKind
from billingdesk.gateways.models import SyncRun
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.helpers import charge_id, customer_with_card, pay
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start


def _arrange_history(seed: stripe.StripeClient) -> dict[str, str]:
    ada = customer_with_card(
        seed, email="Ada@Example.com", tax_id_data=[{"type": "eu_vat", "value": "FR12345678901"}]
    )
    bob = customer_with_card(seed, email="bob@example.com")
    paid = pay(seed, ada, 4000)
    partly = pay(seed, ada, 2500)
    seed.v1.refunds.create(params={"payment_intent": partly.id, "amount": 1000})
    whole = pay(seed, bob, 1200)
    seed.v1.refunds.create(params={"payment_intent": whole.id})
    held = pay(seed, bob, 7000, capture=False)
    product = seed.v1.products.create(params={"name": "Gold"})
    seed.v1.plans.create(
        params={
            "id": "gold-monthly",
            "amount": 1500,
            "currency": "eur",
            "interval": "month",
            "product": product.id,
        }
    )
    sub = seed.v1.subscriptions.create(
        params={"customer": bob.id, "items": [{"plan": "gold-monthly"}]}
    )
    seed.v1.coupons.create(params={"id": "WELCOME10", "percent_off": 10, "duration": "once"})
    time.sleep(0.2)  # localstripe pays the subscription's first invoice asynchronously
    return {
        "ada": ada.id,
        "bob": bob.id,
        "paid": charge_id(paid),
        "partly": charge_id(partly),
        "whole": charge_id(whole),
        "held": charge_id(held),
        "sub": sub.id,
    }


def _dispute(fake: StripeFake, charge: str) -> None:
    fake.add(
        {
            "id": "dp_test_1",
            "object": "dispute",
            "charge": charge,
            "amount": 4000,
            "currency": "eur",
            "status": "needs_response",
            "reason": "fraudulent",
            "evidence_details": {"due_by": 1900000000},
        }
    )


@pytest.mark.django_db
def test_backfill_mirrors_every_kind_with_statuses_and_links(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    ids = _arrange_history(seed)
    with StripeFake(upstream=localstripe) as fake:
        _dispute(fake, ids["paid"])
        account = make_account(fake.url)

        run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    assert Customer.objects.filter(account=account).count() == 2
    ada = Customer.objects.get(gateway_id=ids["ada"])
    assert ada.email_normalized == "ada@example.com"
    charges = {c.gateway_id: c for c in Charge.objects.filter(account=account)}
    # 4 payments + the subscription's first invoice payment.
    assert len(charges) == 5
    # Its dispute (needs_response) holds the money: no refund may be offered on it.
    assert (charges[ids["paid"]].status, charges[ids["paid"]].amount) == ("disputed", 4000)
    assert charges[ids["paid"]].currency == "EUR"
    assert charges[ids["partly"]].status == "partially_refunded"
    assert charges[ids["partly"]].amount_refunded == 1000
    assert charges[ids["whole"]].status == "refunded"
    assert charges[ids["held"]].status == "authorized"
    assert charges[ids["held"]].amount_captured == 0
    assert charges[ids["paid"]].customer == ada
    assert charges[ids["paid"]].alt_id.startswith("pi_")
    refunds = Refund.objects.filter(account=account)
    assert sorted(r.amount for r in refunds) == [1000, 1200]
    assert {r.charge.gateway_id for r in refunds} == {ids["partly"], ids["whole"]}
    pm = PaymentMethod.objects.get(account=account, customer=ada)
    assert (pm.brand, pm.last4, pm.exp_year, pm.is_default) == ("visa", "4242", 2030, True)
    assert charges[ids["paid"]].payment_method == pm
    tax = TaxId.objects.get(account=account)
    assert (tax.customer, tax.tax_type, tax.value, tax.country) == (
        ada,
        "eu_vat",
        "FR12345678901",
        "FR",
    )
    sub = Subscription.objects.get(gateway_id=ids["sub"])
    assert (sub.status, sub.plan, sub.amount, sub.interval) == (
        "active",
        "gold-monthly",
        1500,
        "month",
    )
    invoice = Invoice.objects.get(account=account)
    assert (invoice.status, invoice.total, invoice.subscription) == ("paid", 1500, sub)
    coupon = Coupon.objects.get(account=account)
    assert (coupon.gateway_id, coupon.percent_off_bp) == ("WELCOME10", 1000)
    dispute = Dispute.objects.get(account=account)
    assert (dispute.charge, dispute.status) == (charges[ids["paid"]], "needs_response")
    # The run's counts follow the objects' own kinds, embedded ones included.
    assert run.counts["refund"] == 2 and run.counts["tax_id"] == 1


def _snapshot(account_id: object) -> dict[str, list[tuple[object, ...]]]:
    """The mirror's business content, without ids and sync timestamps."""
    return {
        "customers": sorted(
            Customer.objects.filter(account_id=account_id).values_list("gateway_id", "email")
        ),
        "charges": sorted(
            Charge.objects.filter(account_id=account_id).values_list(
                "gateway_id", "status", "amount", "amount_refunded", "customer__gateway_id"
            )
        ),
        "refunds": sorted(
            Refund.objects.filter(account_id=account_id).values_list(
                "gateway_id", "amount", "charge__gateway_id"
            )
        ),
        "subscriptions": sorted(
            Subscription.objects.filter(account_id=account_id).values_list("gateway_id", "status")
        ),
        "invoices": sorted(
            Invoice.objects.filter(account_id=account_id).values_list(
                "gateway_id", "status", "subscription__gateway_id"
            )
        ),
    }


@pytest.mark.django_db
def test_backfill_resumes_after_a_failure_to_the_same_mirror(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    _arrange_history(seed)
    with StripeFake(upstream=localstripe) as fake:
        whole = make_account(fake.url, name="uninterrupted")
        account_backfill(account=whole)

        broken = make_account(fake.url, name="interrupted")
        # Given Stripe fails on invoices (more 500s than the client retries)…
        fake.fail_next("/v1/invoices", 500, times=3)
        run = sync_run_start(account=broken)
        with pytest.raises(GatewayUnavailable):
            sync_run_execute(run=run)
        run.refresh_from_db()
        assert run.status == SyncRun.Status.FAILED
        assert connector_for(broken).backfill_kinds[run.kind_index] is ObjectKind.INVOICE
        assert not Charge.objects.filter(account=broken).exists()
        customers_calls = fake.calls("GET", "/v1/customers")

        # …when the backfill is started again, it resumes where it stopped.
        resumed = account_backfill(account=broken)

        assert resumed.pk == run.pk and resumed.status == SyncRun.Status.DONE
        assert fake.calls("GET", "/v1/customers") == customers_calls  # not fetched again
    assert _snapshot(broken.pk) == _snapshot(whole.pk)
    assert _snapshot(broken.pk)["charges"]


@pytest.mark.django_db
def test_api_calls_grow_with_pages_not_objects(localstripe: str, seed: stripe.StripeClient) -> None:
    customers = [customer_with_card(seed, email=f"c{i}@example.com") for i in range(130)]
    for cust in customers[:110]:
        seed.v1.charges.create(params={"amount": 500, "currency": "eur", "customer": cust.id})
    for cust in customers[:101]:  # payment requests not paid yet: no charge
        seed.v1.payment_intents.create(
            params={"amount": 700, "currency": "eur", "customer": cust.id}
        )
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)
        connector = connector_for(account)

        run = account_backfill(account=account)
        api = connector.api  # noqa: F841 - a fresh connector per call; count at the server

    assert run.status == SyncRun.Status.DONE
    assert Customer.objects.filter(account=account).count() == 130
    assert Charge.objects.filter(account=account, status="captured").count() == 110
    assert Charge.objects.filter(account=account, status="pending").count() == 101
    assert PaymentMethod.objects.filter(account=account).count() == 130
    # 130 customers, 110 charges and 101 payment intents are two pages each (100 per page):
    # two calls each, whatever the embedded cards and refunds. Payment methods are the one
    # listing Stripe offers only per customer: the customers walked again (two pages), then
    # one listing per customer.
    assert fake.calls("GET", "/v1/customers") == 2 + 2
    assert fake.calls("GET", "/v1/charges") == 2
    assert fake.calls("GET", "/v1/payment_intents") == 2
    assert fake.calls("GET", "/v1/payment_methods") == 130
    assert fake.calls("GET", "/v1/refunds") == 0
    assert len(fake.requests) == 4 + 130 + 1 + 1 + 1 + 2 + 2 + 1  # customers, payment
    # methods, coupons, subs, invoices, charges, payment intents, disputes
