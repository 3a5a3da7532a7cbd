"""Recurly's JSON notifications: the recurly-signature header checked against independently
computed vectors, rotation, tolerance; thin notifications re-fetched through the real intake
and drain."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.billing.models import Charge, Customer, Invoice, PaymentMethod, Subscription
from billingdesk.core.errors import SignatureInvalid
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.recurly.connector import signature, verify_signature
from billingdesk.gateways.webhooks import webhook_account_drain, webhook_receive

# Computed outside Python: printf '%s' '1700000000000.<body>' | openssl dgst -sha256 -hmac KEY
VECTOR_KEY = "whsec_vector_key"
VECTOR_BODY = b'{"id":"a1","object_type":"account","event_type":"created"}'
VECTOR_MS = 1700000000000
VECTOR_SIG = "b4058741bbeca4263826dfa0b2f8109216cd205c3da827d1cedb61819a72b48a"


def test_the_signature_matches_an_independently_computed_vector() -> None:
    assert signature(VECTOR_KEY, VECTOR_MS, VECTOR_BODY) == VECTOR_SIG
    verify_signature(f"{VECTOR_MS},{VECTOR_SIG}", VECTOR_BODY, VECTOR_KEY, now_ms=VECTOR_MS)


def test_any_of_several_signatures_verifies_during_a_key_rotation() -> None:
    old = hmac.new(b"whsec_old", f"{VECTOR_MS}.".encode() + VECTOR_BODY, hashlib.sha256)
    header = f"{VECTOR_MS},{old.hexdigest()},{VECTOR_SIG}"
    verify_signature(header, VECTOR_BODY, VECTOR_KEY, now_ms=VECTOR_MS)
    verify_signature(header, VECTOR_BODY, "whsec_old", now_ms=VECTOR_MS)
    with pytest.raises(SignatureInvalid, match="no recurly-signature matches"):
        verify_signature(header, VECTOR_BODY, "whsec_third", now_ms=VECTOR_MS)


@pytest.mark.parametrize(
    ("header", "now_ms", "message"),
    [
        (None, VECTOR_MS, "missing"),
        ("", VECTOR_MS, "missing"),
        (f"{VECTOR_MS}", VECTOR_MS, "malformed"),
        (f"t={VECTOR_MS},{VECTOR_SIG}", VECTOR_MS, "malformed"),
        (f"{VECTOR_MS},{VECTOR_SIG}", VECTOR_MS + 5 * 60 * 1000 + 1, "tolerance"),
        (f"{VECTOR_MS},{VECTOR_SIG}", VECTOR_MS - 5 * 60 * 1000 - 1, "tolerance"),
        (f"{VECTOR_MS},{VECTOR_SIG[:-1]}0", VECTOR_MS, "no recurly-signature"),
    ],
)
def test_a_bad_header_is_refused(header: str | None, now_ms: int, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        verify_signature(header, VECTOR_BODY, VECTOR_KEY, now_ms=now_ms)
    # At the edge of the tolerance it is still accepted.
    verify_signature(
        f"{VECTOR_MS},{VECTOR_SIG}", VECTOR_BODY, VECTOR_KEY, now_ms=VECTOR_MS + 5 * 60 * 1000
    )


def _deliver(account: GatewayAccount, payload: dict[str, str]) -> int:
    body = json.dumps(payload).encode()
    ms = int(time.time() * 1000)
    digest = hmac.new(account.webhook_secret.encode(), f"{ms}.".encode() + body, hashlib.sha256)
    headers = {"Recurly-Signature": f"{ms},{digest.hexdigest()}"}
    status = webhook_receive(account=account, headers=headers, body=body).status_code
    webhook_account_drain.call(str(account.pk))
    return status


def test_thin_notifications_are_refetched_for_each_object_type(
    fake: RecurlyFake, site: Site, account: GatewayAccount
) -> None:
    fake.add_plan(site, "pro", amount="30.00")
    alice = fake.add_account(site, email="alice@example.com")
    fake.add_card(site, alice["id"], last4="4444", brand="MasterCard")
    sub = fake.add_subscription(site, alice["id"], "pro")
    invoice = next(iter(site.invoices.values()))
    at = "2026-03-01T09:00:00Z"
    notes = [
        ("n1", "account", alice["id"], "created"),
        ("n2", "billing_info", alice["id"], "updated"),
        ("n3", "subscription", sub["id"], "created"),
        ("n4", "charge_invoice", invoice["id"], "paid"),
        ("n5", "payment", invoice["transactions"][0], "succeeded"),
    ]
    for uuid, object_type, object_id, event in notes:
        payload = {
            "uuid": uuid,
            "id": object_id,
            "object_type": object_type,
            "event_type": event,
            "event_time": at,
            "account_code": alice["code"],
        }
        assert _deliver(account, payload) == 200
    statuses = set(WebhookEvent.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == {WebhookEvent.Status.PROCESSED}
    assert (
        Customer.objects.get(account=account, gateway_id=alice["id"]).email == "alice@example.com"
    )
    assert PaymentMethod.objects.get(account=account).last4 == "4444"
    assert Subscription.objects.get(account=account, gateway_id=sub["id"]).plan == "pro"
    assert Invoice.objects.get(account=account, gateway_id=invoice["id"]).total == 3000
    charge = Charge.objects.get(account=account)
    assert charge.amount == 3000 and charge.invoice is not None
    # Each was read back through the API, not taken from the notification.
    assert ("GET", f"/accounts/code-{alice['code']}") in fake.requests
    assert ("GET", f"/subscriptions/{sub['id']}") in fake.requests


def test_a_notification_of_an_account_recurly_no_longer_has_deletes_it(
    fake: RecurlyFake, site: Site, account: GatewayAccount
) -> None:
    alice = fake.add_account(site, email="alice@example.com")
    base = {"id": alice["id"], "object_type": "account", "event_time": "2026-03-01T09:00:00Z"}
    assert _deliver(account, {**base, "uuid": "c1", "event_type": "created"}) == 200
    del site.accounts[alice["id"]]
    later = {**base, "event_time": "2026-03-02T09:00:00Z"}
    assert _deliver(account, {**later, "uuid": "c2", "event_type": "deleted"}) == 200
    customer = Customer.objects.get(account=account, gateway_id=alice["id"])
    assert customer.deleted
