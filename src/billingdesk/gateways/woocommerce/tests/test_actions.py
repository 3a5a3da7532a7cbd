"""Agent actions on a WooCommerce shop: the real connector against the fake shop."""

from __future__ import annotations

import pytest
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.core.errors import AmountTooLarge, InvalidRequest, NotAllowed, NotFound
from billingdesk.gateways import interface as gw
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector
from billingdesk.gateways.woocommerce.tests.conftest import make_account

pytestmark = pytest.mark.django_db


def _order(fake: WooFake, shop: Shop, **kw: object) -> dict[str, object]:
    customer = fake.add_customer(shop, email="ana@example.com")
    items = kw.pop("items", [("Chair", 2, "80.00"), ("Cushion", 1, "19.50")])
    return fake.add_order(shop, customer=customer, items=items, **kw)  # type: ignore[arg-type]


def test_a_partial_refund_asks_the_payment_gateway_to_refund(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop)
    result = connector.refund_create(
        charge_id=str(order["id"]), amount=1950, reason="cushion torn", idempotency_key="k1"
    )
    refund = next(o for o in result.objects if isinstance(o, gw.GwRefund))
    charge = next(o for o in result.objects if isinstance(o, gw.GwCharge))
    assert (refund.amount, refund.reason, refund.charge_id) == (
        1950,
        "cushion torn",
        str(order["id"]),
    )
    assert charge.status == gw.ChargeStatus.PARTIALLY_REFUNDED and charge.amount_refunded == 1950
    # api_refund: the payment plugin moved the money, as a decimal string.
    assert shop.gateway_refunds == [(order["id"], "19.50")]
    assert shop.refunds[order["id"]][0]["refunded_payment"] is True  # type: ignore[index]


def test_a_full_refund_refunds_what_remains_and_marks_the_order_refunded(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop)
    connector.refund_create(charge_id=str(order["id"]), amount=1000, reason="", idempotency_key="a")
    result = connector.refund_create(
        charge_id=str(order["id"]), amount=None, reason="", idempotency_key="b"
    )
    charge = next(o for o in result.objects if isinstance(o, gw.GwCharge))
    assert charge.status == gw.ChargeStatus.REFUNDED and charge.amount_refunded == 9950
    assert shop.orders[order["id"]]["status"] == "refunded"  # type: ignore[index]
    with pytest.raises(AmountTooLarge):
        connector.refund_create(
            charge_id=str(order["id"]), amount=1, reason="", idempotency_key="c"
        )


def test_line_items_are_refunded_with_restock(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop)
    chair = order["line_items"][0]  # type: ignore[index]
    result = connector.refund_line_items(
        charge_id=str(order["id"]),
        lines=[{"id": chair["id"], "quantity": 1, "amount": 4000}],
        reason="one chair back",
        idempotency_key="li-1",
        restock=True,
    )
    refund = next(o for o in result.objects if isinstance(o, gw.GwRefund))
    assert refund.amount == 4000
    stored = shop.refunds[order["id"]][0]  # type: ignore[index]
    assert stored["api_restock"] is True
    assert stored["line_items"][0]["refunded_item_id"] == chair["id"]
    with pytest.raises(InvalidRequest):
        connector.refund_line_items(
            charge_id=str(order["id"]), lines=[{"id": 999999, "amount": 1}], reason="",
            idempotency_key="li-2",
        )  # fmt: skip


def test_a_payment_method_without_automatic_refunds_is_refused_before_anything_is_recorded(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop, payment_method="bacs")
    with pytest.raises(NotAllowed, match="Direct bank transfer"):
        connector.refund_create(
            charge_id=str(order["id"]), amount=None, reason="", idempotency_key="r"
        )
    assert shop.refunds[order["id"]] == []  # type: ignore[index]


def test_an_unpaid_order_cannot_be_refunded(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop, status="pending")
    with pytest.raises(NotAllowed, match="not paid"):
        connector.refund_create(
            charge_id=str(order["id"]), amount=100, reason="", idempotency_key="r"
        )
    with pytest.raises(NotFound):
        connector.refund_create(charge_id="424242", amount=100, reason="", idempotency_key="r")


def test_a_subscription_is_cancelled_now_or_at_the_end_of_its_term(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com")
    now_sub = fake.add_subscription(shop, customer=ana)
    later_sub = fake.add_subscription(shop, customer=ana)

    result = connector.subscription_cancel(
        subscription_id=str(now_sub["id"]), at_period_end=False, idempotency_key="c1"
    )
    cancelled = result.objects[0]
    assert isinstance(cancelled, gw.GwSubscription)
    assert cancelled.status == gw.SubscriptionStatus.CANCELED and cancelled.ended_at is not None

    result = connector.subscription_cancel(
        subscription_id=str(later_sub["id"]), at_period_end=True, idempotency_key="c2"
    )
    ending = result.objects[0]
    assert isinstance(ending, gw.GwSubscription)
    assert ending.status == gw.SubscriptionStatus.ACTIVE and ending.cancel_at_period_end
    assert shop.subscriptions[later_sub["id"]]["status"] == "pending-cancel"
    # A retry changes nothing and is not an error.
    again = connector.subscription_cancel(
        subscription_id=str(now_sub["id"]), at_period_end=False, idempotency_key="c1"
    )
    assert again.objects[0].id == str(now_sub["id"])


def test_without_the_subscriptions_extension_cancelling_says_so(fake: WooFake, db: None) -> None:
    plain = fake.shop("plain", subscriptions=False)
    connector = WooCommerceConnector(make_account(fake, plain))
    with pytest.raises(NotAllowed, match="Subscriptions extension"):
        connector.subscription_cancel(subscription_id="5", at_period_end=False, idempotency_key="x")


def test_a_coupon_is_applied_to_a_subscription_once(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com")
    sub = fake.add_subscription(shop, customer=ana)
    coupon = fake.add_coupon(shop, code="LOYAL", amount="20")
    for key in ("k1", "k1-retry"):
        connector.coupon_apply(
            coupon_id=str(coupon["id"]), subscription_id=str(sub["id"]), idempotency_key=key
        )
    assert [c["code"] for c in shop.subscriptions[sub["id"]]["coupon_lines"]] == ["LOYAL"]
    with pytest.raises(NotAllowed, match="not to a customer"):
        connector.coupon_apply(
            coupon_id=str(coupon["id"]), customer_id=str(ana["id"]), idempotency_key="k2"
        )


def test_a_payment_request_is_a_pending_order_whose_pay_page_is_the_link(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com")
    first = connector.payment_request_create(
        customer_id=str(ana["id"]), amount=2590, currency="EUR", description="Repair",
        idempotency_key="pr-1",
    )  # fmt: skip
    again = connector.payment_request_create(
        customer_id=str(ana["id"]), amount=2590, currency="EUR", description="Repair",
        idempotency_key="pr-1",
    )  # fmt: skip
    assert first.url == again.url and "/checkout/order-pay/" in first.url
    pending = [o for o in shop.orders.values() if o["status"] == "pending"]
    assert len(pending) == 1 and pending[0]["total"] == "25.90"
    assert pending[0]["fee_lines"][0]["name"] == "Repair"
    charge = first.objects[0]
    assert isinstance(charge, gw.GwCharge) and charge.status == gw.ChargeStatus.PENDING


def test_a_zero_decimal_currency_is_converted_without_a_scale(fake: WooFake, db: None) -> None:
    tokyo = fake.shop("tokyo", currency="JPY")
    connector = WooCommerceConnector(make_account(fake, tokyo))
    order = fake.add_order(tokyo, items=[("Tea", 3, "1500")], email="k@example.jp")
    result = connector.refund_create(
        charge_id=str(order["id"]), amount=500, reason="", idempotency_key="j"
    )
    assert tokyo.gateway_refunds == [(order["id"], "500")]
    charge = next(o for o in result.objects if isinstance(o, gw.GwCharge))
    assert (charge.amount, charge.amount_refunded, charge.currency) == (1500, 500, "JPY")


def test_a_subscription_is_put_on_hold(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    sub = fake.add_subscription(shop, customer=fake.add_customer(shop, email="h@example.com"))
    result = connector.subscription_pause(subscription_id=str(sub["id"]), idempotency_key="h")
    held = result.objects[0]
    assert isinstance(held, gw.GwSubscription) and held.status == gw.SubscriptionStatus.PAUSED
    assert shop.subscriptions[sub["id"]]["status"] == "on-hold"


def test_a_note_to_the_customer_and_an_order_status_change(
    fake: WooFake, shop: Shop, connector: WooCommerceConnector
) -> None:
    order = _order(fake, shop)
    connector.order_note_send(
        order_id=str(order["id"]), note="Your parcel left today.", idempotency_key="n"
    )
    assert shop.notes[order["id"]][0]["customer_note"] is True  # type: ignore[index]
    with pytest.raises(InvalidRequest):
        connector.order_note_send(order_id=str(order["id"]), note=" ", idempotency_key="n2")
    result = connector.order_status_set(
        order_id=str(order["id"]), status="completed", idempotency_key="s"
    )
    assert shop.orders[order["id"]]["status"] == "completed"  # type: ignore[index]
    assert isinstance(result.objects[0], gw.GwCharge)
    with pytest.raises(InvalidRequest, match="not an order status"):
        connector.order_status_set(
            order_id=str(order["id"]), status="refunded", idempotency_key="s2"
        )
