"""PayPal webhooks through the real intake, signed by an independent signer (a test CA and
PayPal's certificate, ``tests.fakes.paypal_signer``) and verified offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake
from tests.fakes.paypal_signer import PayPalSigner

from billingdesk.billing.models import Charge, Customer, Dispute, Refund, Subscription
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.paypal import verify
from billingdesk.gateways.webhooks import webhook_account_drain, webhook_receive

from .conftest import cert_url

pytestmark = pytest.mark.django_db


def _event(event_type: str, resource: dict[str, Any], event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or f"WH-{event_type}-{resource.get('id', '')}",
            "event_version": "1.0",
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "event_type": event_type,
            "resource_type": event_type.split(".")[1].lower(),
            "resource": resource,
        }
    ).encode()


def _deliver(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, body: bytes, **kw: Any
) -> int:
    headers = signer.headers(
        body, webhook_id=account.credentials["webhook_id"], cert_url=cert_url(fake), **kw
    )
    return webhook_receive(account=account, headers=headers, body=body).status_code


def _processed(account: GatewayAccount) -> None:
    webhook_account_drain.call(str(account.pk))
    rows = WebhookEvent.objects.filter(account=account).values_list("status", "event_type", "error")
    assert {r[0] for r in rows} == {WebhookEvent.Status.PROCESSED}, list(rows)


def test_capture_refund_authorization_subscription_and_dispute_events_reach_the_mirror(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="ada@example.com", amount="40.00")
    refund = fake.add_refund(merchant, capture, "15.00")
    auth = fake.add_authorization(merchant, email="hold@example.com", amount="9.99")
    plan = fake.add_plan(merchant, name="Silver", price="5.00")
    sub = fake.add_subscription(merchant, plan, email="sub@example.com", payments=0)
    sub["status"] = "CANCELLED"
    dispute = fake.add_dispute(merchant, capture)
    wire = {
        "PAYMENT.CAPTURE.COMPLETED": fake.wire_capture(merchant, capture),
        "PAYMENT.CAPTURE.REFUNDED": fake.wire_refund(merchant, refund),
        "PAYMENT.AUTHORIZATION.CREATED": fake.wire_authorization(merchant, auth),
        "BILLING.SUBSCRIPTION.CANCELLED": fake.wire_subscription(merchant, sub),
        "CUSTOMER.DISPUTE.CREATED": dispute,
    }
    for event_type, resource in wire.items():
        assert _deliver(fake, signer, account, _event(event_type, resource)) == 200

    _processed(account)

    charge = Charge.objects.get(account=account, gateway_id=capture["id"])
    # Refunded in part, then disputed: the open dispute holds the rest.
    assert (charge.amount, charge.amount_refunded, charge.status) == (4000, 1500, "disputed")
    assert charge.customer is not None and charge.customer.email == "ada@example.com"
    assert Refund.objects.get(account=account, gateway_id=refund["id"]).charge == charge
    hold = Charge.objects.get(account=account, gateway_id=auth["id"])
    assert (hold.status, hold.amount) == ("authorized", 999)
    cancelled = Subscription.objects.get(account=account, gateway_id=sub["id"])
    assert (cancelled.status, cancelled.amount) == ("canceled", 500)
    assert cancelled.customer is not None and cancelled.customer.email == "sub@example.com"
    assert Dispute.objects.get(account=account, gateway_id=dispute["dispute_id"]).charge == charge


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.paypal.com/v1/notifications/certs/CERT-1", True),
        ("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", True),
        ("https://api-m.paypal.com/v1/notifications/certs/CERT-1", True),
        ("http://api.paypal.com/v1/notifications/certs/CERT-1", False),  # not https
        ("https://api.paypal.com:8443/v1/notifications/certs/CERT-1", False),
        ("https://paypal.com.evil.example/cert", False),
        ("https://evilpaypal.com/cert", False),
        ("https://user@api.paypal.com/cert", False),
        ("file:///etc/passwd", False),
    ],
)
def test_the_certificate_url_must_be_on_a_paypal_host(url: str, allowed: bool) -> None:
    assert verify.cert_url_allowed(url) is allowed


def _rejected(account: GatewayAccount) -> str:
    event = WebhookEvent.objects.get(account=account)
    assert event.status == WebhookEvent.Status.REJECTED
    return event.error


def test_a_certificate_url_off_paypal_is_refused_without_being_fetched(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, settings: Any
) -> None:
    settings.PAYPAL_CERT_TEST_URL_PREFIXES = []  # the fake is not PayPal
    body = _event("CHECKOUT.ORDER.APPROVED", {"id": "5O1"})
    headers = signer.headers(body, webhook_id="WH-shop", cert_url=cert_url(fake))

    assert webhook_receive(account=account, headers=headers, body=body).status_code == 400
    assert "not a PayPal URL" in _rejected(account)
    assert fake.calls("/v1/notifications/certs/") == 0


def test_a_certificate_of_an_untrusted_chain_is_refused(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount
) -> None:
    impostor = PayPalSigner()  # the same names, its own root CA
    url = fake.add_cert("CERT-impostor", impostor.chain_pem)
    body = _event("CHECKOUT.ORDER.APPROVED", {"id": "5O1"})
    headers = impostor.headers(body, webhook_id="WH-shop", cert_url=url)

    assert webhook_receive(account=account, headers=headers, body=body).status_code == 400
    assert "does not chain to a trusted root" in _rejected(account)


def test_a_trusted_certificate_not_issued_to_paypal_is_refused(
    fake: PayPalFake, account: GatewayAccount, settings: Any, tmp_path: Path
) -> None:
    other = PayPalSigner(leaf_name="webhooks.example.com")
    settings.PAYPAL_CERT_TRUST_ROOTS = other.write_root(tmp_path)
    url = fake.add_cert("CERT-other", other.chain_pem)
    body = _event("CHECKOUT.ORDER.APPROVED", {"id": "5O1"})
    headers = other.headers(body, webhook_id="WH-shop", cert_url=url)

    assert webhook_receive(account=account, headers=headers, body=body).status_code == 400
    assert "not issued to PayPal" in _rejected(account)


def test_a_signature_for_another_webhook_id_is_refused(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount
) -> None:
    body = _event("CHECKOUT.ORDER.APPROVED", {"id": "5O1"})
    headers = signer.headers(body, webhook_id="WH-someone-else", cert_url=cert_url(fake))
    assert webhook_receive(account=account, headers=headers, body=body).status_code == 400
    assert "does not verify" in _rejected(account)


def test_the_verified_certificate_is_cached(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount
) -> None:
    for n in range(3):
        body = _event("PAYMENT.PAYOUTSBATCH.SUCCESS", {"id": f"b{n}"}, event_id=f"WH-{n}")
        assert _deliver(fake, signer, account, body) == 200
    assert fake.calls("/v1/notifications/certs/") == 1


@pytest.mark.parametrize("fallback", [True, False])
def test_when_the_certificate_cannot_be_fetched_the_postback_decides_if_enabled(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, settings: Any, fallback: bool
) -> None:
    settings.PAYPAL_WEBHOOK_POSTBACK_FALLBACK = fallback
    body = _event("PAYMENT.PAYOUTSBATCH.SUCCESS", {"id": "b1"})
    url = f"{fake.url}/v1/notifications/certs/CERT-gone"  # 404
    headers = signer.headers(body, webhook_id="WH-shop", cert_url=url)

    status = webhook_receive(account=account, headers=headers, body=body).status_code

    if fallback:
        assert status == 200
        assert fake.calls("/v1/notifications/verify-webhook-signature") == 1
        fake.postback_answer = "FAILURE"
        again = _event("PAYMENT.PAYOUTSBATCH.SUCCESS", {"id": "b2"}, event_id="WH-2")
        headers = signer.headers(again, webhook_id="WH-shop", cert_url=url)
        assert webhook_receive(account=account, headers=headers, body=again).status_code == 400
    else:
        assert status == 400
        assert "could not verify" in _rejected(account)
        assert fake.calls("/v1/notifications/verify-webhook-signature") == 0


def test_an_unsupported_algorithm_is_refused(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount
) -> None:
    body = _event("CHECKOUT.ORDER.APPROVED", {"id": "5O1"})
    headers = signer.headers(body, webhook_id="WH-shop", cert_url=cert_url(fake))
    headers["PAYPAL-AUTH-ALGO"] = "SHA1withRSA"
    assert webhook_receive(account=account, headers=headers, body=body).status_code == 400
    assert "PAYPAL-AUTH-ALGO" in _rejected(account)


def test_an_order_event_brings_its_payer_as_the_customer(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, merchant: Merchant
) -> None:
    capture = fake.add_payment(merchant, email="buyer@example.com", amount="3.00")
    order = fake.wire_order(merchant, merchant.orders[capture["order_id"]])
    assert _deliver(fake, signer, account, _event("CHECKOUT.ORDER.COMPLETED", order)) == 200
    _processed(account)
    customer = Customer.objects.get(account=account)
    assert (customer.gateway_id, customer.email) == (
        order["payer"]["payer_id"],
        "buyer@example.com",
    )
    assert Charge.objects.get(account=account, gateway_id=capture["id"]).customer == customer
    assert fake.calls("/v2/checkout/orders/") == 0  # the event holds the order


def test_an_event_naming_an_order_this_app_cannot_read_is_kept_and_ignored(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount
) -> None:
    capture = {
        "id": "3C0THERAPP000001",
        "status": "COMPLETED",
        "amount": {"currency_code": "EUR", "value": "5.00"},
        "supplementary_data": {"related_ids": {"order_id": "5O0THERAPP00001"}},
    }
    assert _deliver(fake, signer, account, _event("PAYMENT.CAPTURE.COMPLETED", capture)) == 200
    _processed(account)
    assert not Charge.objects.filter(account=account).exists()
    assert fake.calls("/v2/checkout/orders/5O0THERAPP00001") == 1
