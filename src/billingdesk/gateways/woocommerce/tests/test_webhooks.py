"""WooCommerce webhooks through the real intake (over HTTP, with Django's test client) and the
real drain: X-WC-Webhook-Signature, topics, the creation ping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.billing.models import Charge, Coupon, Customer, Refund, Subscription
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks import webhook_account_drain
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector, signature

pytestmark = pytest.mark.django_db


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    # Computed independently: printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac whsec_test
    # -binary | base64
    assert signature(b'{"id":1}', "whsec_test") == "KLZisNJHjxbf4kmXEUNS8edT25t7EUtHeFmUfnMUR2M="


def _post(account: GatewayAccount, topic: str, payload: Any, *, secret: str | None = None) -> int:
    body = json.dumps(payload).encode()
    key = (secret or account.webhook_secret).encode()
    digest = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    response = Client().post(
        account.webhook_path,
        data=body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_TOPIC=topic,
        HTTP_X_WC_WEBHOOK_SIGNATURE=digest,
        HTTP_X_WC_WEBHOOK_SOURCE="https://shop.example/",
        HTTP_X_WC_WEBHOOK_ID="7",
    )
    return int(response.status_code)


def _drain(account: GatewayAccount) -> None:
    webhook_account_drain.call(str(account.pk))


def test_order_customer_coupon_and_subscription_topics_reach_the_mirror(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com", first_name="Ana")
    order = fake.add_order(shop, customer=ana, items=[("Kettle", 1, "45.00")], number="2001")
    fake.refund(shop, order["id"], {"amount": "5.00", "reason": "late"})
    coupon = fake.add_coupon(shop, code="WELCOME", amount="15")
    sub = fake.add_subscription(shop, customer=ana, total="19.99")

    assert _post(account, "customer.created", ana) == 200
    assert _post(account, "order.updated", order) == 200
    assert _post(account, "coupon.created", coupon) == 200
    assert _post(account, "subscription.updated", sub) == 200
    _drain(account)

    assert set(WebhookEvent.objects.values_list("event_type", "status")) == {
        ("customer.created", "processed"),
        ("order.updated", "processed"),
        ("coupon.created", "processed"),
        ("subscription.updated", "processed"),
    }
    charge = Charge.objects.get(account=account, gateway_id=str(order["id"]))
    assert (charge.order_id, charge.amount, charge.amount_refunded) == ("2001", 4500, 500)
    assert charge.customer == Customer.objects.get(account=account, email="ana@example.com")
    assert Refund.objects.get(account=account).reason == "late"
    assert Coupon.objects.get(account=account).percent_off_bp == 1500
    assert Subscription.objects.get(account=account).amount == 1999


def test_a_deleted_customer_or_coupon_carries_only_its_id(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com")
    coupon = fake.add_coupon(shop, code="GONE", amount="5")
    assert _post(account, "customer.created", ana) == 200
    assert _post(account, "coupon.created", coupon) == 200
    _drain(account)
    assert _post(account, "customer.deleted", {"id": ana["id"]}) == 200
    assert _post(account, "coupon.deleted", {"id": coupon["id"]}) == 200
    _drain(account)
    assert not WebhookEvent.objects.exclude(status="processed").exists()
    assert Customer.objects.get(account=account).deleted
    assert Coupon.objects.get(account=account).deleted


def test_the_ping_on_webhook_creation_is_answered_200_and_changes_nothing(
    account: GatewayAccount,
) -> None:
    # WC_Webhook::deliver_ping: a form body, no signature; anything but 200 fails the save.
    response = Client().post(
        account.webhook_path, data=b"webhook_id=7", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    _drain(account)
    event = WebhookEvent.objects.get(account=account)
    assert (event.event_type, event.status) == ("ping", "processed")
    assert not Customer.objects.exists() and not Charge.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"webhook_id=7&x=1", b"webhook_id=", b'{"id": 3, "email": "a@b.c", "role": "customer"}'],
)
def test_only_the_exact_ping_body_passes_unsigned(account: GatewayAccount, body: bytes) -> None:
    response = Client().post(account.webhook_path, data=body, content_type="text/plain")
    assert response.status_code == 400
    assert WebhookEvent.objects.get(account=account).status == "rejected"


def test_a_body_signed_with_another_secret_is_rejected(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    ana = fake.add_customer(shop, email="ana@example.com")
    assert _post(account, "customer.updated", ana, secret="someone-else") == 400
    _drain(account)
    assert WebhookEvent.objects.get(account=account).status == "rejected"
    assert not Customer.objects.exists()


def test_a_body_that_is_not_its_topics_resource_is_refused(account: GatewayAccount) -> None:
    assert _post(account, "order.updated", {"id": 5, "email": "a@b.c"}) == 400
    event = WebhookEvent.objects.get(account=account)
    assert event.status == "rejected" and "line_items" in event.error


def test_an_unmapped_topic_is_kept_and_ignored(account: GatewayAccount) -> None:
    assert _post(account, "product.updated", {"id": 9, "name": "Mug", "type": "simple"}) == 200
    _drain(account)
    assert WebhookEvent.objects.get(account=account).status == "processed"


def test_without_headers_the_topic_is_told_from_the_body(
    fake: WooFake, shop: Shop, account: GatewayAccount
) -> None:
    connector = WooCommerceConnector(account)
    order = fake.add_order(shop, customer=fake.add_customer(shop, email="x@example.com"))
    body = json.dumps(order).encode()
    assert connector.read_envelope(body).type == "order.updated"
    parsed = connector.parse_webhook(body)
    assert [o.kind.value for o in parsed.objects] == ["charge"]
