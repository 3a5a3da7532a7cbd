"""Braintree notifications through the real intake: signed by the SDK's own testing gateway
(``webhook_testing.sample_notification``), parsed by the connector through the SDK."""

from __future__ import annotations

from urllib.parse import urlencode

import braintree
import pytest
from braintree.util.crypto import Crypto
from django.test import Client
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.billing.models import Charge, Dispute, Subscription
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks import webhook_account_drain, webhook_receive

from .conftest import customer_with_card

pytestmark = pytest.mark.django_db


def _signer(account: GatewayAccount) -> braintree.BraintreeGateway:
    """An SDK gateway with the account's keys: Braintree's side of the signature."""
    creds = account.credentials
    return braintree.BraintreeGateway(
        braintree.Configuration(
            braintree.Environment.Sandbox,
            merchant_id=creds["merchant_id"],
            public_key=creds["public_key"],
            private_key=creds["private_key"],
        )
    )


def _deliver(account: GatewayAccount, kind: str, object_id: str) -> int:
    sample = _signer(account).webhook_testing.sample_notification(kind, object_id)
    body = urlencode(sample).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return webhook_receive(account=account, headers=headers, body=body).status_code


def test_sdk_signed_notifications_of_each_kind_reach_the_mirror(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant
) -> None:
    _, token = customer_with_card(fake, merchant, "sub@example.com")
    fake.add_plan(merchant, "gold", price="10.00")
    sub = fake._subscription(merchant, {"plan_id": "gold", "payment_method_token": token})
    assert isinstance(sub, dict)

    assert _deliver(account, "subscription_canceled", sub["id"]) == 200
    assert _deliver(account, "subscription_charged_successfully", "t_paid") == 200
    assert _deliver(account, "transaction_settled", "t_settled") == 200
    assert _deliver(account, "dispute_opened", "dp_1") == 200
    assert _deliver(account, "disbursement", "d_1") == 200  # kept, ignored
    webhook_account_drain.call(str(account.pk))

    statuses = set(WebhookEvent.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == {WebhookEvent.Status.PROCESSED}, list(
        WebhookEvent.objects.values_list("event_type", "error")
    )
    canceled = Subscription.objects.get(account=account, gateway_id=sub["id"])
    assert canceled.status == "canceled"
    # The sample names no payment method, so no customer; a real one does (see below).
    settled = Charge.objects.get(account=account, gateway_id="t_settled")
    assert (settled.amount, settled.currency, settled.status) == (10000, "USD", "captured")
    assert Charge.objects.get(account=account, gateway_id="t_paid").amount == 4999
    dispute = Dispute.objects.get(account=account, gateway_id="dp_1")
    assert dispute.status == "needs_response" and dispute.amount > 0


def test_a_subscription_notification_is_linked_to_the_customer_of_its_payment_method(
    fake: BraintreeFake, account: GatewayAccount, merchant: Merchant
) -> None:
    from base64 import encodebytes
    from datetime import UTC, datetime

    from tests.fakes.braintree_gateway import to_xml

    cid, token = customer_with_card(fake, merchant, "owner@example.com")
    fake.add_plan(merchant, "silver", price="7.00", frequency=12)
    sub = fake._subscription(merchant, {"plan_id": "silver", "payment_method_token": token})
    assert isinstance(sub, dict)
    wire = fake.wire_subscription(merchant, sub)
    stamp = datetime.now(UTC)
    xml = to_xml(
        "notification",
        {"timestamp": stamp, "kind": "subscription_went_active", "subject": {"subscription": wire}},
    ).encode()
    payload = encodebytes(xml)
    signature = f"pub_shop|{Crypto.sha1_hmac_hash('priv_shop', payload)}"
    body = urlencode({"bt_signature": signature, "bt_payload": payload.decode()}).encode()

    assert webhook_receive(account=account, headers={}, body=body).status_code == 200
    webhook_account_drain.call(str(account.pk))

    mirrored = Subscription.objects.get(account=account, gateway_id=sub["id"])
    assert mirrored.customer is not None and mirrored.customer.gateway_id == cid
    assert (mirrored.amount, mirrored.interval_count) == (700, 12)


def test_a_notification_signed_for_another_public_key_is_rejected(
    account: GatewayAccount,
) -> None:
    other = braintree.BraintreeGateway(
        braintree.Configuration(
            braintree.Environment.Sandbox,
            merchant_id="x",
            public_key="pub_someone_else",
            private_key="priv_shop",
        )
    )
    sample = other.webhook_testing.sample_notification("transaction_settled", "t_1")
    result = webhook_receive(account=account, headers={}, body=urlencode(sample).encode())
    assert result.status_code == 400 and "public key" in result.message


def test_the_bt_challenge_is_answered_with_the_sdk_signature(account: GatewayAccount) -> None:
    challenge = "38a1b4f1c2d3e4f5a6b7"
    response = Client().get(account.webhook_path, {"bt_challenge": challenge})
    assert response.status_code == 200
    expected = f"pub_shop|{Crypto.sha1_hmac_hash('priv_shop', challenge)}"
    assert response.content.decode() == expected


@pytest.mark.parametrize("challenge", ["not-hex!", "abc", ""])
def test_a_malformed_bt_challenge_is_a_400(account: GatewayAccount, challenge: str) -> None:
    response = Client().get(account.webhook_path, {"bt_challenge": challenge})
    assert response.status_code == 400
    assert "bt_challenge" in response.json()["error"]
