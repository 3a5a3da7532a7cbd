"""Agent actions through the official client against the fake Recurly API."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.core.errors import (
    AmountTooLarge,
    CardDeclined,
    InvalidRequest,
    NotAllowed,
    RateLimited,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.recurly.connector import RecurlyConnector


def _paid(fake: RecurlyFake, site: Site, amount: str = "50.00") -> tuple[dict[str, Any], str]:
    customer = fake.add_account(site, email="paid@example.com")
    fake.add_card(site, customer["id"], last4="4242")
    invoice = fake.purchase(site, customer["id"], amount)
    return invoice, str(invoice["transactions"][0])


def _of(result: gw.ActionResult, cls: type[Any]) -> list[Any]:
    return [o for o in result.objects if isinstance(o, cls)]


# --- refunds -------------------------------------------------------------------------------
def test_a_refund_by_amount_makes_a_credit_invoice(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    invoice, txn = _paid(fake, site)
    assert connector.credit_invoice_preview(charge_id=txn, amount=1200) == [
        f"Recurly will issue a credit invoice of $12.00 against invoice #{invoice['number']}, "
        "and refund $12.00 to visa •••• 4242.",
        f"$38.00 of invoice #{invoice['number']} will remain refundable.",
    ]
    result = connector.refund_create(
        charge_id=txn, amount=1200, reason="broken", idempotency_key="r-1"
    )
    [credit] = _of(result, gw.GwInvoice)
    assert credit.total == -1200 and credit.number.startswith("CR-")
    [refund] = _of(result, gw.GwRefund)
    assert (refund.charge_id, refund.amount, refund.status) == (txn, 1200, "succeeded")
    [charge] = _of(result, gw.GwCharge)
    assert (charge.amount_refunded, charge.status) == (1200, gw.ChargeStatus.PARTIALLY_REFUNDED)
    body = site.invoices[credit.id]
    assert body["previous_invoice_id"] == invoice["id"] and body["origin"] == "refund"
    assert ("POST", f"/invoices/{invoice['id']}/refund") in fake.requests

    with pytest.raises(AmountTooLarge, match=r"only \$38.00 of this invoice is left"):
        connector.refund_create(charge_id=txn, amount=3801, reason="", idempotency_key="r-2")
    rest = connector.refund_create(charge_id=txn, amount=None, reason="", idempotency_key="r-3")
    assert _of(rest, gw.GwRefund)[0].amount == 3800
    assert _of(rest, gw.GwCharge)[0].status == gw.ChargeStatus.REFUNDED
    with pytest.raises(AmountTooLarge, match="already been refunded in full"):
        connector.refund_create(charge_id=txn, amount=100, reason="", idempotency_key="r-4")


def test_a_refund_by_line_items(fake: RecurlyFake, site: Site, connector: RecurlyConnector) -> None:
    fake.add_plan(site, "pro", amount="30.00", add_ons={"seat": "5.00"})
    customer = fake.add_account(site, email="lines@example.com")
    fake.add_card(site, customer["id"])
    fake.add_subscription(site, customer["id"], "pro", add_ons=[{"code": "seat", "quantity": 4}])
    invoice = next(iter(site.invoices.values()))
    seat = next(i for i in invoice["line_items"] if i["add_on_code"] == "seat")
    result = connector.refund_line_items(
        invoice_id=invoice["id"], line_items={seat["id"]: 2}, reason="", idempotency_key="l-1"
    )
    assert _of(result, gw.GwRefund)[0].amount == 1000
    assert _of(result, gw.GwInvoice)[0].total == -1000
    with pytest.raises(InvalidRequest, match="refundable quantity"):
        connector.refund_line_items(
            invoice_id=invoice["id"], line_items={seat["id"]: 3}, reason="", idempotency_key="l-2"
        )


def test_a_refund_of_a_refund_is_refused(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    _, txn = _paid(fake, site)
    result = connector.refund_create(charge_id=txn, amount=100, reason="", idempotency_key="x")
    refund_id = _of(result, gw.GwRefund)[0].id
    with pytest.raises(NotAllowed, match="is a refund, not a payment"):
        connector.refund_create(charge_id=refund_id, amount=None, reason="", idempotency_key="y")


# --- invoices ------------------------------------------------------------------------------
def test_an_open_invoice_is_voided_and_a_paid_one_is_not(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    customer = fake.add_account(site, email="inv@example.com")
    request = connector.payment_request_create(
        customer_id=customer["id"], amount=4550, currency="USD", description="Consulting",
        idempotency_key="pr-1",
    )  # fmt: skip
    [open_invoice] = _of(request, gw.GwInvoice)
    assert open_invoice.status == gw.InvoiceStatus.OPEN and open_invoice.amount_due == 4550
    token = customer["hosted_login_token"]
    assert request.url == (
        f"https://acme.recurly.com/account/invoices/{open_invoice.number}?ht={token}"
    )
    voided = connector.invoice_void(invoice_id=open_invoice.id, idempotency_key="v-1")
    assert _of(voided, gw.GwInvoice)[0].status == gw.InvoiceStatus.VOID
    paid, _ = _paid(fake, site)
    with pytest.raises(NotAllowed, match="refund a paid one instead"):
        connector.invoice_void(invoice_id=paid["id"], idempotency_key="v-2")


def test_a_payment_request_retried_with_its_key_makes_one_invoice(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    customer = fake.add_account(site, email="once@example.com")
    args: dict[str, Any] = dict(
        customer_id=customer["id"], amount=999, currency="USD", description="x"
    )
    first = connector.payment_request_create(**args, idempotency_key="k")
    again = connector.payment_request_create(**args, idempotency_key="k")
    assert first.url == again.url and len(site.invoices) == 1


# --- subscriptions -------------------------------------------------------------------------
def test_cancel_at_term_end_then_reactivate_then_terminate(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    fake.add_plan(site, "pro", amount="30.00")
    customer = fake.add_account(site, email="sub@example.com")
    fake.add_card(site, customer["id"])
    sub = fake.add_subscription(site, customer["id"], "pro")

    canceled = connector.subscription_cancel(
        subscription_id=sub["id"], at_period_end=True, idempotency_key="c-1"
    )
    [state] = _of(canceled, gw.GwSubscription)
    assert state.status == gw.SubscriptionStatus.ACTIVE and state.cancel_at_period_end
    back = connector.subscription_reactivate(subscription_id=sub["id"], idempotency_key="re-1")
    assert not _of(back, gw.GwSubscription)[0].cancel_at_period_end

    ended = connector.subscription_cancel(
        subscription_id=sub["id"], at_period_end=False, idempotency_key="c-2"
    )
    assert _of(ended, gw.GwSubscription)[0].status == gw.SubscriptionStatus.CANCELED
    assert ("DELETE", f"/subscriptions/{sub['id']}") in fake.requests
    # Without refund: the first invoice is still refundable in full.
    assert all(i["type"] == "charge" for i in site.invoices.values())
    with pytest.raises(NotAllowed, match="cannot be reactivated"):
        connector.subscription_reactivate(subscription_id=sub["id"], idempotency_key="re-2")


def test_terminate_with_a_full_refund_makes_a_credit_invoice(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    fake.add_plan(site, "pro", amount="30.00")
    customer = fake.add_account(site, email="full@example.com")
    fake.add_card(site, customer["id"])
    sub = fake.add_subscription(site, customer["id"], "pro")
    connector.subscription_terminate(
        subscription_id=sub["id"], refund="full", idempotency_key="t-1"
    )
    credits = [i for i in site.invoices.values() if i["type"] == "credit"]
    assert len(credits) == 1 and credits[0]["total"] == -30
    with pytest.raises(InvalidRequest, match="none, partial or full"):
        connector.subscription_terminate(
            subscription_id=sub["id"], refund="some", idempotency_key="t-2"
        )


def test_create_a_subscription_with_a_coupon_and_a_trial(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    fake.add_plan(site, "pro", amount="30.00")
    fake.add_coupon(site, "welcome", percent=10)
    customer = fake.add_account(site, email="new@example.com")
    fake.add_card(site, customer["id"])
    result = connector.subscription_create(
        customer_id=customer["id"], plan="pro", idempotency_key="s-1", quantity=2,
        coupon_id="welcome", trial_days=14,
    )  # fmt: skip
    [sub] = _of(result, gw.GwSubscription)
    assert sub.status == gw.SubscriptionStatus.TRIALING and sub.quantity == 2
    assert sub.amount == 6000 and sub.customer_id == customer["id"]
    assert [d.coupon_id for d in _of(result, gw.GwDiscount)] == ["welcome"]
    again = connector.subscription_create(
        customer_id=customer["id"], plan="pro", idempotency_key="s-1", quantity=2,
        coupon_id="welcome", trial_days=14,
    )  # fmt: skip
    assert _of(again, gw.GwSubscription)[0].id == sub.id and len(site.subscriptions) == 1
    with pytest.raises(InvalidRequest, match="no plan with the code 'gold'"):
        connector.subscription_create(customer_id=customer["id"], plan="gold", idempotency_key="g")


def test_a_declined_card_is_card_declined(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    fake.add_plan(site, "pro", amount="30.00")
    customer = fake.add_account(site, email="decline@example.com")
    fake.add_card(site, customer["id"], last4="0002")
    with pytest.raises(CardDeclined) as caught:
        connector.subscription_create(customer_id=customer["id"], plan="pro", idempotency_key="d")
    assert caught.value.decline_code == "do_not_honor"
    assert "declined" in caught.value.message


# --- coupons, VAT, card update ---------------------------------------------------------------
def test_a_coupon_is_redeemed_on_the_account_once(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    fake.add_coupon(site, "loyal", amount="5.00")
    customer = fake.add_account(site, email="loyal@example.com")
    first = connector.coupon_apply(
        coupon_id="loyal", customer_id=customer["id"], idempotency_key="cp-1"
    )
    [discount] = _of(first, gw.GwDiscount)
    assert discount.coupon_id == "loyal" and discount.customer_id == customer["id"]
    # Applied again (another key): Recurly says it is redeemed already, the same is returned.
    again = connector.coupon_apply(
        coupon_id="loyal", customer_id=customer["id"], idempotency_key="cp-2"
    )
    assert [d.id for d in _of(again, gw.GwDiscount)] == [discount.id]
    assert len(site.redemptions) == 1


def test_the_vat_number_is_set_on_the_account(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    customer = fake.add_account(site, email="vat@example.com", country="FR")
    result = connector.tax_id_add(
        customer_id=customer["id"], tax_type="eu_vat", value="FR40303265045", idempotency_key="t"
    )
    [tax] = _of(result, gw.GwTaxId)
    assert (tax.value, tax.country, tax.customer_id) == ("FR40303265045", "FR", customer["id"])
    assert site.accounts[customer["id"]]["vat_number"] == "FR40303265045"
    with pytest.raises(InvalidRequest, match="only VAT numbers"):
        connector.tax_id_add(
            customer_id=customer["id"], tax_type="us_ein", value="12-3456789", idempotency_key="u"
        )


def test_the_card_update_is_recurlys_hosted_page(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    customer = fake.add_account(site, email="card@example.com")
    result = connector.card_update_start(customer_id=customer["id"], return_url="")
    token = customer["hosted_login_token"]
    assert result.url == f"https://acme.recurly.com/account/billing_info/edit?ht={token}"


def test_an_eu_site_s_hosted_pages_are_on_the_eu_host(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    connector.account.credentials = {**connector.account.credentials, "region": "eu"}
    connector.__dict__.pop("api", None)  # a new client for the new credentials
    customer = fake.add_account(site, email="eu@example.com")
    url = connector.card_update_start(customer_id=customer["id"], return_url="").url
    assert url.startswith("https://acme.eu.recurly.com/account/billing_info/edit?ht=")


def test_rate_limits_and_outages_are_operational_and_distinct(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    _, txn = _paid(fake, site)
    fake.fail_next(429)
    with pytest.raises(RateLimited):
        connector.refund_create(charge_id=txn, amount=100, reason="", idempotency_key="z")
    assert not [i for i in site.invoices.values() if i["type"] == "credit"]
