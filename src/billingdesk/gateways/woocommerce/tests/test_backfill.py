"""Backfill of a WooCommerce shop through the real sync engine, against the fake shop."""

from __future__ import annotations

import pytest
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.billing.models import Charge, Coupon, Customer, Refund, Subscription
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.sync import account_backfill, sync_run_skipped
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector
from billingdesk.gateways.woocommerce.tests.conftest import make_account
from billingdesk.panel.selectors.search import person_search


def _arrange(fake: WooFake, shop: Shop) -> dict[str, object]:
    ana = fake.add_customer(shop, email="ana@example.com", first_name="Ana", last_name="Lima")
    paid = fake.add_order(
        shop,
        customer=ana,
        items=[("T-shirt", 2, "30.00"), ("Mug", 1, "9.90")],
        number="1042",
        transaction_id="ch_3Pstripe",
    )
    fake.refund(shop, paid["id"], {"amount": "9.90", "reason": "mug broken"})
    pending = fake.add_order(shop, customer=ana, status="pending", payment_method="bacs")
    guest = fake.add_order(shop, email="guest@example.com", items=[("Lamp", 1, "120.00")])
    coupon = fake.add_coupon(shop, code="SPRING10", amount="10.00")
    fixed = fake.add_coupon(shop, code="FIVEOFF", amount="5.00", discount_type="fixed_cart")
    sub = fake.add_subscription(shop, customer=ana, total="12.50", period="week", interval=2)
    return {"ana": ana, "paid": paid, "pending": pending, "guest": guest, "coupon": coupon,
            "fixed": fixed, "sub": sub}  # fmt: skip


def test_backfill_mirrors_customers_orders_refunds_coupons_and_subscriptions(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    made = _arrange(fake, shop)
    run = account_backfill(account=account)
    assert run.status == SyncRun.Status.DONE, run.error

    ana = Customer.objects.get(account=account, gateway_id=str(made["ana"]["id"]))  # type: ignore[index]
    assert (ana.email, ana.name, ana.country) == ("ana@example.com", "Ana Lima", "FR")

    paid = Charge.objects.get(account=account, gateway_id=str(made["paid"]["id"]))  # type: ignore[index]
    assert paid.order_id == "1042"  # the number agents quote, not the id
    assert paid.amount == 3990 and paid.currency == "EUR"  # "39.90" in minor units
    assert paid.amount_refunded == 990 and paid.status == "partially_refunded"
    assert paid.description == "2 x T-shirt, 1 x Mug" and paid.product == "T-shirt"
    assert paid.alt_id == "ch_3Pstripe"
    assert paid.customer_id == ana.pk
    refund = Refund.objects.get(account=account)
    assert (refund.amount, refund.reason, refund.charge_id) == (990, "mug broken", paid.pk)

    pending = Charge.objects.get(account=account, gateway_id=str(made["pending"]["id"]))  # type: ignore[index]
    assert pending.status == "pending" and pending.amount_captured == 0
    guest = Charge.objects.get(account=account, gateway_id=str(made["guest"]["id"]))  # type: ignore[index]
    assert guest.customer_id is None and guest.receipt_email == "guest@example.com"

    percent = Coupon.objects.get(account=account, gateway_id=str(made["coupon"]["id"]))  # type: ignore[index]
    assert percent.percent_off_bp == 1000 and percent.name == "SPRING10"
    fixed = Coupon.objects.get(account=account, gateway_id=str(made["fixed"]["id"]))  # type: ignore[index]
    assert fixed.amount_off == 500 and fixed.currency == "EUR"

    sub = Subscription.objects.get(account=account)
    assert (sub.status, sub.amount, sub.interval, sub.interval_count) == ("active", 1250, "week", 2)
    assert sub.customer_id == ana.pk and sub.product == "Coffee club"


def test_an_agent_finds_the_customer_by_order_number(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    _arrange(fake, shop)
    account_backfill(account=account)
    for typed in ("1042", "#1042"):
        hits = person_search(typed).hits
        emails = [c.email for hit in hits for c in hit.customers]
        assert emails == ["ana@example.com"], typed
        assert hits[0].matched_by == "order id"
    # The payment plugin's id (a Stripe charge, a PayPal capture) finds the order too.
    hits = person_search("ch_3Pstripe").hits
    assert [c.email for hit in hits for c in hit.customers] == ["ana@example.com"]


def test_a_shop_without_the_subscriptions_extension_is_detected_not_assumed(
    fake: WooFake, db: None
) -> None:
    plain = fake.shop("plain", subscriptions=False)
    account = make_account(fake, plain)
    fake.add_order(plain, customer=fake.add_customer(plain, email="bo@example.com"))
    run = account_backfill(account=account)
    assert run.status == SyncRun.Status.DONE
    assert "Subscriptions extension" in sync_run_skipped(run)["subscription"]
    assert Charge.objects.filter(account=account).count() == 1
    assert not Subscription.objects.filter(account=account).exists()


def test_the_next_run_asks_only_for_what_was_modified_since(
    fake: WooFake, shop: Shop, account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _arrange(fake, shop)
    account_backfill(account=account)
    fake.log.clear()
    order = made["guest"]
    fake.refund(shop, order["id"], {"amount": "20.00"})  # type: ignore[index]
    account_backfill(account=account)

    listings = {path: q for method, path, q in fake.log if method == "GET" and "page" in q}
    assert "modified_after" in listings["/orders"] and "modified_after" in listings["/coupons"]
    assert "modified_after" not in listings["/customers"]  # WooCommerce cannot filter them
    guest = Charge.objects.get(account=account, gateway_id=str(order["id"]))  # type: ignore[index]
    assert guest.amount_refunded == 2000
    # Only the order modified since the last run is listed again, not the month-old ones.
    listed = WooCommerceConnector(account).list_page(gw.ObjectKind.CHARGE, None).objects
    ids = {o.id for o in listed if isinstance(o, gw.GwCharge)}
    assert str(order["id"]) in ids  # type: ignore[index]
    assert str(made["pending"]["id"]) not in ids  # type: ignore[index]


def test_pages_follow_x_wp_totalpages_and_a_resumed_run_continues_at_its_page(
    fake: WooFake, shop: Shop, account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WooCommerceConnector, "page_size", 2)
    customer = fake.add_customer(shop, email="many@example.com")
    for n in range(5):
        fake.add_order(shop, customer=customer, number=f"N{n}")
    run = account_backfill(account=account)
    orders = [q for m, path, q in fake.log if path == "/orders" and m == "GET"]
    assert [q["page"] for q in orders] == ["1", "2", "3"]
    assert all(q["per_page"] == "2" and q["orderby"] == "id" for q in orders)
    assert run.status == SyncRun.Status.DONE
    assert Charge.objects.filter(account=account).count() == 5
