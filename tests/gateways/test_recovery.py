"""Crash recovery in-process: lost jobs, orphaned drains, bounded rejects, retention.

The same recovery against real worker processes killed with SIGKILL is in
``tests/test_worker_crash.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from billingdesk.billing import models as m
from billingdesk.gateways import webhooks
from billingdesk.gateways.models import GatewayAccount, SyncRun, TaskWorker, WebhookEvent
from billingdesk.gateways.recovery import (
    LOST_JOB_ERROR,
    lost_jobs_requeue,
    recovery_sweep,
    unfinished_backfills_requeue,
    webhook_events_prune,
    worker_heartbeat,
)
from billingdesk.gateways.tasks import account_backfill_task
from billingdesk.gateways.webhooks import webhook_account_drain
from tests.fakes.memory_gateway import MemoryConnector, signed_headers
from tests.gateways.conftest import build_history
from tests.gateways.test_webhook_drain import customer_event, deliver
from tests.task_engines import ENGINE, run_pending_on_commit

# These tests set up a claimed job by writing the database queue's row; the same recovery on
# RQ is tested with real workers in tests/test_worker_crash.py.
database_queue_only = pytest.mark.skipif(
    ENGINE != "database", reason="writes the database queue's job rows"
)


def _claimed_by(job_id: Any, worker: str, *, ago: float, claims: int = 1) -> None:
    """Mark a queued job as claimed by ``worker`` ``ago`` seconds ago, as db_worker does."""
    DBTaskResult.objects.filter(pk=job_id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=ago),
        worker_ids=[f"{worker}-{n}" for n in range(claims - 1)] + [worker],
    )


@database_queue_only
@pytest.mark.django_db
def test_a_job_of_a_dead_worker_is_queued_again_and_a_live_ones_is_not(
    memory_account: GatewayAccount, settings: Any
) -> None:
    settings.WORKER_LOST_SECONDS = 30
    dead = account_backfill_task.enqueue(str(memory_account.pk))
    live = account_backfill_task.enqueue(str(memory_account.pk))
    _claimed_by(dead.id, "w-dead", ago=60)
    _claimed_by(live.id, "w-live", ago=60)
    worker_heartbeat("w-live")
    TaskWorker.objects.create(worker_id="w-dead", seen_at=timezone.now() - timedelta(seconds=31))

    assert lost_jobs_requeue() == (1, 0)

    statuses = {str(pk): s for pk, s in DBTaskResult.objects.values_list("pk", "status")}
    assert statuses[dead.id] == TaskResultStatus.READY
    assert statuses[live.id] == TaskResultStatus.RUNNING


@database_queue_only
@pytest.mark.django_db
def test_a_job_that_keeps_losing_its_worker_is_failed_not_retried_forever(
    memory_account: GatewayAccount, settings: Any
) -> None:
    settings.TASK_MAX_CLAIMS = 3
    job = account_backfill_task.enqueue(str(memory_account.pk))
    _claimed_by(job.id, "w-dead", ago=3600, claims=3)

    assert lost_jobs_requeue() == (0, 1)

    row = DBTaskResult.objects.get(pk=job.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == LOST_JOB_ERROR


@database_queue_only
@pytest.mark.django_db
def test_a_drain_killed_before_clearing_the_flag_is_run_again_by_the_sweep(
    client: Client,
    memory_account: GatewayAccount,
    drain_tasks: Callable[[], None],
    settings: Any,
) -> None:
    for n in range(3):
        assert deliver(client, memory_account, customer_event(n)) == 200
    job = DBTaskResult.objects.get(task_path=webhook_account_drain.module_path)
    # A worker claimed the drain and died before its first transaction committed.
    _claimed_by(job.id, "w-killed", ago=settings.WORKER_LOST_SECONDS + 1)
    drain_tasks()  # a healthy worker: nothing is ready, so nothing happens
    assert WebhookEvent.objects.filter(status="pending").count() == 3

    result = recovery_sweep()
    drain_tasks()

    assert result.jobs_requeued == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    memory_account.refresh_from_db()
    assert not memory_account.drain_requested


@pytest.mark.django_db
def test_a_set_flag_with_no_job_at_all_gets_a_drain(
    memory_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    # E.g. a web process died between committing an event and enqueueing its drain (RQ).
    WebhookEvent.objects.create(
        account=memory_account, body=customer_event(1), event_id="evt_1", status="pending"
    )
    GatewayAccount.objects.filter(pk=memory_account.pk).update(drain_requested=True)

    assert recovery_sweep().drains == 1
    run_pending_on_commit()  # the sweep's transaction would have committed
    assert recovery_sweep().drains == 0  # queued now: not twice
    drain_tasks()

    assert WebhookEvent.objects.get().status == "processed"


@database_queue_only
@pytest.mark.django_db
def test_the_sweep_resumes_a_backfill_whose_job_died(
    memory_account: GatewayAccount, settings: Any
) -> None:
    run = SyncRun.objects.create(account=memory_account, status=SyncRun.Status.RUNNING)
    SyncRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SYNC_STALE_SECONDS + 1)
    )
    job = account_backfill_task.enqueue(str(memory_account.pk))
    _claimed_by(job.id, "w-killed", ago=settings.WORKER_LOST_SECONDS + 1)

    # The dead job's RUNNING row no longer counts as "already queued": it is itself put back
    # (and so counts as queued for the backfill check: one job, not two).
    result = recovery_sweep()

    assert (result.jobs_requeued, result.backfills) == (1, 0)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_drain_parses_events_outside_any_transaction(
    client: Client, memory_account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thin event is re-fetched from the gateway while parsing: no lock may be held then.
    assert deliver(client, memory_account, customer_event(1)) == 200
    seen: list[bool] = []
    real_parse = MemoryConnector.parse_webhook

    def parse(self: MemoryConnector, body: bytes) -> Any:
        seen.append(connection.in_atomic_block)
        return real_parse(self, body)

    monkeypatch.setattr(MemoryConnector, "parse_webhook", parse)

    webhook_account_drain.call(str(memory_account.pk))

    assert seen == [False]
    assert WebhookEvent.objects.get().status == "processed"
    assert m.Customer.objects.count() == 1


@pytest.mark.django_db
def test_an_event_another_drain_took_while_this_one_parsed_is_not_applied_twice(
    client: Client, memory_account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deliver(client, memory_account, customer_event(1)) == 200
    event = WebhookEvent.objects.get()
    real_parse = MemoryConnector.parse_webhook

    def parse_slowly(self: MemoryConnector, body: bytes) -> Any:
        # Meanwhile another drain applied it.
        WebhookEvent.objects.filter(pk=event.pk).update(status="processed", attempts=1)
        return real_parse(self, body)

    monkeypatch.setattr(MemoryConnector, "parse_webhook", parse_slowly)

    assert webhooks._apply(memory_account, [event]) == set()
    event.refresh_from_db()
    assert event.attempts == 1


# --- rejected deliveries ----------------------------------------------------------------------
def _post_unsigned(client: Client, account: GatewayAccount, body: bytes, ip: str) -> int:
    response = client.post(
        account.webhook_path, data=body, content_type="application/json", REMOTE_ADDR=ip
    )
    return int(response.status_code)


@pytest.mark.django_db
def test_a_rejected_delivery_keeps_a_prefix_and_a_hash_not_the_body(
    client: Client, memory_account: GatewayAccount, settings: Any
) -> None:
    body = b'{"id": "evt_x", "pad": "' + b"x" * (1_000_000) + b'"}'

    assert _post_unsigned(client, memory_account, body, "203.0.113.9") == 400

    event = WebhookEvent.objects.get()
    assert event.status == "rejected"
    assert bytes(event.body) == body[: settings.WEBHOOK_REJECTED_KEEP_BYTES]
    assert event.body_size == len(body)
    assert event.body_sha256 == hashlib.sha256(body).hexdigest()
    assert event.source_ip == "203.0.113.9"
    assert event.error


@pytest.mark.django_db
def test_rejections_beyond_the_limit_are_refused_and_not_stored(
    client: Client, memory_account: GatewayAccount, settings: Any
) -> None:
    settings.WEBHOOK_REJECTED_PER_MINUTE = 3
    codes = [_post_unsigned(client, memory_account, b"{}", "198.51.100.7") for _ in range(5)]

    assert codes == [400, 400, 400, 429, 429]
    assert WebhookEvent.objects.count() == 3
    # Another address has its own allowance; a signed delivery is never limited.
    assert _post_unsigned(client, memory_account, b"{}", "198.51.100.8") == 400
    body = customer_event(1)
    signed = client.post(
        memory_account.webhook_path,
        data=body,
        content_type="application/json",
        REMOTE_ADDR="198.51.100.7",
        **signed_headers(memory_account, body),
    )
    assert signed.status_code == 200
    # A minute later the first address may be heard again.
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(seconds=61))
    assert _post_unsigned(client, memory_account, b"{}", "198.51.100.7") == 400


@pytest.mark.django_db
def test_old_rejected_duplicate_and_processed_events_are_pruned_pending_and_failed_kept(
    memory_account: GatewayAccount, settings: Any
) -> None:
    settings.WEBHOOK_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    for n, status in enumerate(["rejected", "duplicate", "processed", "pending", "failed"]):
        WebhookEvent.objects.create(
            account=memory_account, body=b"{}", event_id=f"evt_{n}", status=status
        )
    WebhookEvent.objects.create(
        account=memory_account, body=b"{}", event_id="evt_new", status="processed"
    )
    WebhookEvent.objects.exclude(event_id="evt_new").update(received_at=old)

    assert webhook_events_prune() == 3

    kept = set(WebhookEvent.objects.values_list("event_id", "status"))
    assert kept == {("evt_3", "pending"), ("evt_4", "failed"), ("evt_new", "processed")}
    settings.WEBHOOK_RETENTION_DAYS = 0
    WebhookEvent.objects.update(received_at=old)
    assert webhook_events_prune() == 0  # retention off: kept forever


@pytest.mark.django_db
def test_the_prune_command_takes_an_age(memory_account: GatewayAccount) -> None:
    WebhookEvent.objects.create(account=memory_account, body=b"{}", status="rejected")
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=3))
    out = StringIO()

    call_command("webhooks", "prune", "--older-than", "2", stdout=out)

    assert "Deleted 1 webhook event(s)." in out.getvalue()
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_failed_backfill_is_resumed_by_the_sweep_once(
    memory_account: GatewayAccount, drain_tasks: Callable[[], None], settings: Any
) -> None:
    build_history(memory_account, customers=3, charges_each=1)
    run = SyncRun.objects.create(account=memory_account, status=SyncRun.Status.FAILED)
    # A failed run is retried by the sweep only once it has rested SYNC_STALE_SECONDS.
    assert recovery_sweep().backfills == 0
    SyncRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SYNC_STALE_SECONDS + 1)
    )

    assert recovery_sweep().backfills == 1
    assert recovery_sweep().backfills == 0  # its job is queued: not twice
    drain_tasks()

    run.refresh_from_db()
    assert run.status == SyncRun.Status.DONE
    assert run.counts["customer"] == 3


@database_queue_only
@pytest.mark.django_db
def test_the_sweep_prunes_finished_jobs_past_their_retention(
    memory_account: GatewayAccount, settings: Any
) -> None:
    settings.TASK_RESULT_RETENTION_DAYS = 7
    old, new, waiting = (account_backfill_task.enqueue(str(memory_account.pk)) for _ in range(3))
    DBTaskResult.objects.filter(pk__in=[old.id, new.id]).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now()
    )
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - timedelta(days=8))

    assert recovery_sweep(prune=True).pruned == 1

    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {
        str(new.id),
        str(waiting.id),
    }


def test_the_worker_refuses_a_lost_timeout_its_own_heartbeat_would_trip(
    db: None, settings: Any
) -> None:
    settings.WORKER_HEARTBEAT_SECONDS = 30
    settings.WORKER_LOST_SECONDS = 45
    with pytest.raises(CommandError, match="more than twice"):
        call_command("worker", "--batch", stdout=StringIO())


@database_queue_only
@pytest.mark.django_db
def test_a_dead_jobs_running_row_does_not_count_as_a_queued_backfill(
    memory_account: GatewayAccount, settings: Any
) -> None:
    run = SyncRun.objects.create(account=memory_account, status=SyncRun.Status.RUNNING)
    SyncRun.objects.filter(pk=run.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.SYNC_STALE_SECONDS + 1)
    )
    dead = account_backfill_task.enqueue(str(memory_account.pk))
    _claimed_by(dead.id, "w-killed", ago=settings.WORKER_LOST_SECONDS + 1)

    assert unfinished_backfills_requeue() == 1

    # A job running on a live worker does count: no second walk of the same run.
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).delete()
    worker_heartbeat("w-killed")
    assert unfinished_backfills_requeue() == 0
