"""Webhook processing is one queued drain per account, not one job per event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billingdesk.billing import models as m
from billingdesk.gateways import interface as gw
from billingdesk.gateways import webhooks
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks import (
    webhook_account_drain,
    webhook_events_requeue,
    webhook_receive,
)
from tests.fakes.memory_gateway import event_body, signed_headers
from tests.gateways.conftest import T0
from tests.task_engines import jobs_of


def customer_event(n: int) -> bytes:
    customer = gw.GwCustomer(
        id=f"cus_{n}", updated=T0 + timedelta(minutes=n), email=f"c{n}@example.com"
    )
    return event_body(f"evt_{n}", customer)


def deliver(client: Client, account: GatewayAccount, body: bytes) -> int:
    headers = signed_headers(account, body)
    response = client.post(
        account.webhook_path, data=body, content_type="application/json", **headers
    )
    return int(response.status_code)


def drains_queued() -> int:
    return len(jobs_of(webhook_account_drain))


@pytest.mark.django_db
def test_many_events_queue_one_drain_which_applies_them_all(
    client: Client, memory_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    for n in range(5):
        assert deliver(client, memory_account, customer_event(n)) == 200

    memory_account.refresh_from_db()
    assert memory_account.drain_requested
    assert drains_queued() == 1
    assert WebhookEvent.objects.filter(status="pending").count() == 5

    drain_tasks()

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert m.Customer.objects.count() == 5
    memory_account.refresh_from_db()
    assert not memory_account.drain_requested
    assert drains_queued() == 1


@pytest.mark.django_db
def test_an_event_arriving_during_a_drain_queues_a_follow_up_drain(
    client: Client,
    memory_account: GatewayAccount,
    drain_tasks: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert deliver(client, memory_account, customer_event(0)) == 200
    real_apply = webhooks._apply
    arrived: list[int] = []

    def apply_while_another_arrives(account: GatewayAccount, batch: list[WebhookEvent]) -> set[int]:
        if not arrived:  # the drain has cleared the flag and taken its batch
            body = customer_event(1)
            signature = signed_headers(account, body)["HTTP_X_MEMORY_SIGNATURE"]
            headers = {"X-Memory-Signature": signature}
            arrived.append(webhook_receive(account=account, headers=headers, body=body).status_code)
        return real_apply(account, batch)

    monkeypatch.setattr(webhooks, "_apply", apply_while_another_arrives)
    drain_tasks()

    assert arrived == [200]
    assert drains_queued() == 2  # the late event asked for (and got) its own drain
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert m.Customer.objects.count() == 2


@pytest.mark.django_db
def test_a_long_backlog_is_drained_in_turns(
    client: Client,
    memory_account: GatewayAccount,
    drain_tasks: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webhooks, "PROCESS_BATCH", 2)
    monkeypatch.setattr(webhooks, "DRAIN_MAX_BATCHES", 1)
    for n in range(5):
        deliver(client, memory_account, customer_event(n))

    drain_tasks()

    # Each drain applied one batch of two, then queued the next: 2 + 2 + 1.
    assert drains_queued() == 3
    assert WebhookEvent.objects.filter(status="processed").count() == 5


@pytest.mark.django_db
def test_pending_events_with_no_job_are_drained_after_a_restart(
    memory_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    # A crash left events pending and the flag set, with no job that would clear it.
    for n in range(3):
        WebhookEvent.objects.create(
            account=memory_account,
            body=customer_event(n),
            event_id=f"evt_{n}",
            event_type="customer.updated",
            status="pending",
        )
    GatewayAccount.objects.filter(pk=memory_account.pk).update(drain_requested=True)

    assert webhook_events_requeue() == 3
    drain_tasks()

    assert WebhookEvent.objects.filter(status="processed").count() == 3
    memory_account.refresh_from_db()
    assert not memory_account.drain_requested


@pytest.mark.django_db
def test_a_retry_of_a_failed_event_leaves_the_others_alone(
    client: Client, memory_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    bad = b'{"id": "evt_bad", "type": "customer.updated", "data": {"object": "nope"}}'
    assert deliver(client, memory_account, bad) == 200
    assert deliver(client, memory_account, customer_event(1)) == 200

    drain_tasks()

    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_bad": "failed", "evt_1": "processed"}
    # A malformed payload is permanent: nothing is queued again for it.
    assert not jobs_of(webhooks.webhook_event_process)


@pytest.mark.django_db
def test_the_drain_is_queued_a_moment_later_so_a_stream_is_applied_in_full_batches(
    client: Client, memory_account: GatewayAccount, settings: Any
) -> None:
    settings.WEBHOOK_DRAIN_DELAY_SECONDS = 30
    before = timezone.now()

    for n in range(3):
        assert deliver(client, memory_account, customer_event(n)) == 200

    # One drain for the three events, due only after the delay: the batch worker (which
    # runs what is due now) leaves it, and the events wait, stored, for it.
    [job] = jobs_of(webhook_account_drain)
    assert job.run_after is not None
    # (RQ keeps scheduled times in whole seconds.)
    assert job.run_after >= (before + timedelta(seconds=30)).replace(microsecond=0)
    assert WebhookEvent.objects.filter(status="pending").count() == 3
