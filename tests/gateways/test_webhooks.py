"""Webhook intake through the real URL: store first, verify, dedupe, process idempotently."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.test.utils import override_settings

from billingdesk.billing import models as m
from billingdesk.core.signing import sign_header
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks import webhook_event_process, webhook_events_requeue
from tests.fakes.memory_gateway import event_body, signed_headers
from tests.gateways.conftest import T0


def charge(*, status: gw.ChargeStatus, refunded: int, minutes: int) -> gw.GwCharge:
    return gw.GwCharge(
        id="ch_1",
        updated=T0 + timedelta(minutes=minutes),
        created=T0,
        customer_id="cus_1",
        amount=5000,
        currency="EUR",
        amount_captured=5000,
        amount_refunded=refunded,
        status=status,
    )


def post(client: Client, account: GatewayAccount, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(account.webhook_path, data=body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_valid_event_is_stored_then_processed_into_the_mirror(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    body = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))

    response = post(client, memory_account, body, **signed_headers(memory_account, body))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.event_id, bytes(event.body)) == ("pending", "evt_1", body)
    assert not m.Charge.objects.exists()  # intake does not process inline
    drain_tasks()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and event.attempts == 1
    assert m.Charge.objects.get(gateway_id="ch_1").amount == 5000


@pytest.mark.django_db
def test_duplicate_delivery_is_kept_but_applied_once(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    body = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))
    for _ in range(3):
        assert (
            post(client, memory_account, body, **signed_headers(memory_account, body)).status_code
            == 200
        )
    drain_tasks()

    statuses = sorted(WebhookEvent.objects.values_list("status", flat=True))
    assert statuses == ["duplicate", "duplicate", "processed"]
    assert m.Charge.objects.count() == 1


@pytest.mark.django_db
def test_out_of_order_events_leave_the_newest_version(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    newer = event_body("evt_2", charge(status=gw.ChargeStatus.REFUNDED, refunded=5000, minutes=5))
    older = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))
    post(client, memory_account, newer, **signed_headers(memory_account, newer))
    drain_tasks()
    post(client, memory_account, older, **signed_headers(memory_account, older))
    drain_tasks()

    row = m.Charge.objects.get(gateway_id="ch_1")
    assert (row.status, row.amount_refunded) == ("refunded", 5000)
    assert WebhookEvent.objects.filter(status="processed").count() == 2


@pytest.mark.django_db
def test_refund_arriving_before_its_charge_is_linked_when_the_charge_comes(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    refund = gw.GwRefund(
        id="re_1",
        updated=T0,
        charge_id="ch_1",
        amount=100,
        currency="EUR",
        status=gw.RefundStatus.SUCCEEDED,
    )
    first = event_body("evt_r", refund)
    post(client, memory_account, first, **signed_headers(memory_account, first))
    drain_tasks()
    assert m.Refund.objects.get().charge is None

    second = event_body(
        "evt_c", charge(status=gw.ChargeStatus.PARTIALLY_REFUNDED, refunded=100, minutes=1)
    )
    post(client, memory_account, second, **signed_headers(memory_account, second))
    drain_tasks()

    assert m.Refund.objects.get().charge == m.Charge.objects.get(gateway_id="ch_1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda a, b: {}, id="no signature"),
        pytest.param(
            lambda a, b: {"HTTP_X_MEMORY_SIGNATURE": sign_header(b, "whsec_wrong")},
            id="wrong secret",
        ),
        pytest.param(lambda a, b: signed_headers(a, b + b" "), id="tampered body"),
        pytest.param(
            lambda a, b: {
                "HTTP_X_MEMORY_SIGNATURE": sign_header(
                    b, a.webhook_secret, timestamp=int(time.time()) - 3600
                )
            },
            id="stale timestamp",
        ),
    ],
)
def test_bad_signature_gets_400_and_is_stored_as_rejected(
    client: Client, memory_account: GatewayAccount, drain_tasks, make_headers
) -> None:
    body = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))

    response = post(client, memory_account, body, **make_headers(memory_account, body))

    assert response.status_code == 400
    assert "error" in response.json()
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.REJECTED
    assert bytes(event.body) == body and event.error
    drain_tasks()
    assert not m.Charge.objects.exists()


@pytest.mark.django_db
def test_malformed_json_gets_400_and_is_stored_as_rejected(
    client: Client, memory_account: GatewayAccount
) -> None:
    body = b'{"id": "evt_1", "type": '
    response = post(client, memory_account, body, **signed_headers(memory_account, body))

    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED


@pytest.mark.django_db
def test_unknown_or_inactive_account_is_404_and_nothing_stored(
    client: Client, memory_account: GatewayAccount
) -> None:
    body = b"{}"
    assert (
        client.post(
            "/webhooks/00000000-0000-0000-0000-000000000000/",
            data=body,
            content_type="application/json",
        ).status_code
        == 404
    )
    memory_account.is_active = False
    memory_account.save()
    assert post(client, memory_account, body).status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_get_is_refused(client: Client, memory_account: GatewayAccount) -> None:
    assert client.get(memory_account.webhook_path).status_code == 405


@pytest.mark.django_db
@override_settings(WEBHOOK_MAX_BODY_BYTES=100)
def test_oversized_body_is_413(client: Client, memory_account: GatewayAccount) -> None:
    body = json.dumps({"id": "evt", "pad": "x" * 200}).encode()
    assert post(client, memory_account, body).status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_processing_failure_is_recorded_and_retried(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    # Signed and readable, but its object is of no kind the gateway knows: parse fails.
    body = json.dumps(
        {"id": "evt_bad", "type": "customer.updated", "data": {"object": "nope"}}
    ).encode()
    assert (
        post(client, memory_account, body, **signed_headers(memory_account, body)).status_code
        == 200
    )
    drain_tasks()

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "cannot read event object" in event.error
    # A malformed payload is permanent: no retry is queued, a second run changes nothing.
    assert webhook_event_process.call(event.pk) == "failed"
    event.refresh_from_db()
    assert event.attempts == 2


@pytest.mark.django_db
def test_processing_twice_is_harmless(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    body = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))
    post(client, memory_account, body, **signed_headers(memory_account, body))
    drain_tasks()
    event = WebhookEvent.objects.get()

    assert webhook_event_process.call(event.pk) == "skipped"
    assert m.Charge.objects.count() == 1


@pytest.mark.django_db
def test_events_left_pending_are_requeued(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    body = event_body("evt_1", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))
    # Simulate a crash between commit and enqueue: the event is pending, no task exists.
    WebhookEvent.objects.create(
        account=memory_account,
        body=body,
        event_id="evt_1",
        event_type="charge.updated",
        status="pending",
    )

    assert webhook_events_requeue(older_than_seconds=0) == 1
    drain_tasks()

    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert m.Charge.objects.count() == 1


@pytest.mark.django_db
def test_one_job_applies_the_accounts_pending_events_as_a_batch(
    client: Client, memory_account: GatewayAccount
) -> None:
    first = None
    for n in range(5):
        obj = gw.GwCustomer(id=f"cus_{n}", updated=T0, email=f"c{n}@example.com")
        body = event_body(f"evt_{n}", obj)
        post(client, memory_account, body, **signed_headers(memory_account, body))
        first = first or WebhookEvent.objects.get(event_id="evt_0")

    assert first is not None
    assert webhook_event_process.call(first.pk) == "processed"

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert m.Customer.objects.count() == 5
    # The other events' own jobs then find nothing left to do.
    later = WebhookEvent.objects.get(event_id="evt_4")
    assert webhook_event_process.call(later.pk) == "skipped"


@pytest.mark.django_db
def test_a_bad_event_in_a_batch_fails_alone(
    client: Client, memory_account: GatewayAccount, drain_tasks
) -> None:
    good = event_body("evt_good", charge(status=gw.ChargeStatus.CAPTURED, refunded=0, minutes=0))
    bad = json.dumps(
        {"id": "evt_bad", "type": "customer.updated", "data": {"object": "nope"}}
    ).encode()
    # A refund whose amount is not a number parses, but the database refuses to store it.
    broken = json.dumps(
        {
            "id": "evt_broken",
            "type": "refund.updated",
            "data": {
                "object": "refund",
                "id": "re_x",
                "updated": T0.isoformat(),
                "charge_id": "ch_1",
                "amount": "lots",
                "currency": "EUR",
                "status": "succeeded",
            },
        }
    ).encode()
    for body in (bad, good, broken):
        post(client, memory_account, body, **signed_headers(memory_account, body))

    drain_tasks()

    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_bad": "failed", "evt_good": "processed", "evt_broken": "failed"}
    assert m.Charge.objects.filter(gateway_id="ch_1").exists()
    assert not m.Refund.objects.exists()
