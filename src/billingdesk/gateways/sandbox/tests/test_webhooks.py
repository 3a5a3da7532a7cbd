"""Sandbox events delivered as signed webhooks through the real intake URL, over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from tests.task_engines import jobs_of

from billingdesk.billing.models import Charge, Refund
from billingdesk.core.signing import sign_header
from billingdesk.gateways.interface import ChargeStatus
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.delivery import event_body, event_deliver
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxEvent
from billingdesk.gateways.sync import account_backfill


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Billingdesk-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True)
def test_refund_in_the_sandbox_reaches_the_mirror_by_webhook(
    live_server: Any, drain_tasks: Callable[[], None]
) -> None:
    with override_settings(BASE_URL=live_server.url):
        account = GatewayAccount.objects.create(kind="sandbox", name="Live", default_currency="EUR")
        seeding = SandboxEngine(account, bulk=True)
        customer = seeding.customer_create(email="ana@example.com")
        seeding.card_attach(
            customer_id=customer.object_id, number="4242424242424242", exp_month=1, exp_year=2040
        )
        charge = seeding.charge_create(customer_id=customer.object_id, amount=5000, currency="EUR")
        seeding.flush()
        account_backfill(account=account)
        assert Charge.objects.get(gateway_id=charge.object_id).amount_refunded == 0

        # An agent refunds in the gateway's own dashboard: only the webhook tells billingdesk.
        SandboxEngine(account).refund_create(charge_id=charge.object_id, amount=1500, reason="late")
        drain_tasks()
        drain_tasks()

    events = SandboxEvent.objects.filter(account=account).exclude(
        delivery=SandboxEvent.Delivery.OFF
    )
    assert sorted(events.values_list("type", flat=True)) == ["charge.refunded", "refund.created"]
    assert all(
        e.delivery == SandboxEvent.Delivery.DELIVERED and e.last_status == 200 for e in events
    )
    received = WebhookEvent.objects.filter(account=account)
    assert sorted(received.values_list("status", flat=True)) == ["processed", "processed"]
    assert {r.headers["billingdesk-signature"][:2] for r in received} == {"t="}
    mirrored = Charge.objects.get(gateway_id=charge.object_id)
    assert mirrored.amount_refunded == 1500
    assert mirrored.status == ChargeStatus.PARTIALLY_REFUNDED
    refund = Refund.objects.get(account=account)
    assert (refund.amount, refund.reason, refund.charge) == (1500, "late", mirrored)


@pytest.mark.django_db(transaction=True)
def test_tampered_delivery_is_rejected_and_kept(live_server: Any) -> None:
    with override_settings(BASE_URL=live_server.url):
        account = GatewayAccount.objects.create(kind="sandbox", name="Live", default_currency="EUR")
        engine = SandboxEngine(account, webhooks=False)
        engine.customer_create(email="ana@example.com")
        event = SandboxEvent.objects.get(account=account)
        body = event_body(event)
        signature = sign_header(body, account.webhook_secret)
        tampered = body.replace(b"ana@example.com", b"eve@example.com")

        assert _post(account.webhook_url, tampered, signature) == 400
        assert _post(account.webhook_url, body, signature) == 200
        assert _post(account.webhook_url, body, signature) == 200  # a repeated delivery

    statuses = list(
        WebhookEvent.objects.filter(account=account).order_by("id").values_list("status", flat=True)
    )
    assert statuses == ["rejected", "pending", "duplicate"]
    rejected = WebhookEvent.objects.get(account=account, status="rejected")
    assert bytes(rejected.body) == tampered
    assert "signature" in rejected.error


@pytest.mark.django_db
def test_failed_delivery_is_recorded_and_retried_later(drain_tasks: Callable[[], None]) -> None:
    # Nothing listens on port 9 of this machine: the POST fails.
    with override_settings(BASE_URL="http://127.0.0.1:9"):
        account = GatewayAccount.objects.create(kind="sandbox", name="Down", default_currency="EUR")
        SandboxEngine(account).customer_create(email="ana@example.com")
        drain_tasks()

    event = SandboxEvent.objects.get(account=account)
    assert event.delivery == SandboxEvent.Delivery.PENDING
    assert event.attempts == 1
    assert event.last_error
    assert event.delivered_at is None
    [retry] = [job for job in jobs_of(event_deliver) if job.run_after is not None]
    assert retry.args == [event.pk]
    assert retry.run_after is not None and retry.run_after > event.last_attempt_at


@pytest.mark.django_db
def test_connector_verifies_and_parses_sandbox_events(account: GatewayAccount) -> None:
    SandboxEngine(account, webhooks=False).customer_create(email="ana@example.com", name="Ana")
    event = SandboxEvent.objects.get(account=account)
    body = event_body(event)
    connector = SandboxConnector(account)

    connector.verify_webhook(
        headers={"billingdesk-signature": sign_header(body, account.webhook_secret)}, body=body
    )
    envelope = connector.read_envelope(body)
    parsed = connector.parse_webhook(body)

    assert (envelope.id, envelope.type) == (event.event_id, "customer.created")
    [customer] = parsed.objects
    assert customer.id == event.object_id and customer.name == "Ana"  # type: ignore[attr-defined]
    assert customer.updated == event.created
    from billingdesk.core.errors import MalformedPayload, SignatureInvalid

    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(
            headers={"billingdesk-signature": sign_header(body, "whsec_other")}, body=body
        )
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(headers={}, body=body)
    for bad in (b"not json", b"[]", json.dumps({"id": "evt_1"}).encode()):
        with pytest.raises(MalformedPayload):
            connector.read_envelope(bad)


@pytest.mark.django_db
def test_events_processed_out_of_order_leave_the_newest_state(
    account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    from billingdesk.gateways.webhooks import webhook_receive

    engine = SandboxEngine(account, webhooks=False)
    customer = engine.customer_create(email="ana@example.com")
    engine.card_attach(
        customer_id=customer.object_id, number="4242424242424242", exp_month=1, exp_year=2040
    )
    charge = engine.charge_create(customer_id=customer.object_id, amount=3000, currency="EUR")
    engine.refund_create(charge_id=charge.object_id)
    charge_events = SandboxEvent.objects.filter(object_id=charge.object_id).order_by("-id")
    assert [e.type for e in charge_events] == ["charge.refunded", "charge.succeeded"]

    # Newest first, each drained in its own batch: within one batch the drain keeps only the
    # newest version itself, so only a later batch carrying the older event tests the mirror's
    # own version check against the row already stored.
    for event in charge_events:
        body = event_body(event)
        headers = {"Billingdesk-Signature": sign_header(body, account.webhook_secret)}
        assert webhook_receive(account=account, headers=headers, body=body).status_code == 200
        drain_tasks()
        assert Charge.objects.get(gateway_id=charge.object_id).status == ChargeStatus.REFUNDED

    mirrored = Charge.objects.get(gateway_id=charge.object_id)
    assert mirrored.status == ChargeStatus.REFUNDED
    assert mirrored.amount_refunded == 3000
