"""Crash recovery for background work, run by every ``billingdesk worker`` while it runs.

A worker can die at any moment (``kill -9``, an out-of-memory kill, a machine lost). What it
held must not wait for a worker to *start* again, so each worker keeps a heartbeat
(``TaskWorker.seen_at``, written every ``WORKER_HEARTBEAT_SECONDS`` from a thread of its own,
even while a long job runs) and sweeps every ``WORKER_SWEEP_SECONDS``:

1. **Lost jobs.** A job marked running by a worker not heard from for
   ``WORKER_LOST_SECONDS`` is put back on the queue as it was (same job, same arguments: every
   job here is idempotent), up to ``TASK_MAX_CLAIMS`` runs in all; after that it is marked
   failed, so a job that kills its worker every time cannot take the pool down in a loop. With
   the database queue that is the ``django_tasks_db`` row (its ``worker_ids`` name the
   claimer); with RQ, the job in the queue's started registry (its ``worker_name``).
2. **Orphaned drains.** An account whose ``drain_requested`` flag is set with no drain queued
   or running on a live worker (the job died before clearing the flag, or a web process died
   between committing an event and enqueueing its drain with RQ), or with events pending for
   longer than ``WORKER_LOST_SECONDS`` and the flag clear (a drain failed mid-way), gets a
   drain queued.
3. **Unfinished backfills.** A failed backfill, or a running one untouched for
   ``SYNC_STALE_SECONDS`` (its process died), with no backfill job queued or live for its
   account, is queued again; it resumes from its committed cursor.
4. **Retention.** Rejected, duplicate and processed webhook events older than
   ``WEBHOOK_RETENTION_DAYS`` are deleted, and with the database queue the finished job rows
   older than ``TASK_RESULT_RETENTION_DAYS`` (the queue table would grow forever otherwise,
   and the sweep reads it); at most once an hour per worker. RQ expires results itself.

Every step is safe to run concurrently in several workers: the worst case is one extra,
harmless run of an idempotent job.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import task_backends
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db import DatabaseBackend

from billingdesk.gateways.models import GatewayAccount, SyncRun, TaskWorker, WebhookEvent
from billingdesk.gateways.tasks import account_backfill_task
from billingdesk.gateways.webhooks import webhook_account_drain, webhook_drain_request

log = logging.getLogger(__name__)

LOST_JOB_ERROR = "billingdesk.gateways.recovery.WorkerLost"
# Heartbeat rows of workers gone this long are deleted.
_WORKER_ROW_KEPT = timedelta(days=1)
_PRUNE_BATCH = 5000


# --- heartbeats -------------------------------------------------------------------------------
def worker_id_new() -> str:
    """A worker id unique across machines and restarts (host, pid, random), ≤ 64 characters."""
    host = socket.gethostname().split(".")[0][:30] or "host"
    return f"{host}-{os.getpid()}-{get_random_string(8)}"


def worker_heartbeat(worker_id: str) -> None:
    """Record that this worker is alive now."""
    now = timezone.now()
    if not TaskWorker.objects.filter(pk=worker_id).update(seen_at=now):
        TaskWorker.objects.update_or_create(
            pk=worker_id,
            defaults={"seen_at": now},
            create_defaults={
                "seen_at": now,
                "started_at": now,
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
            },
        )


def worker_forget(worker_id: str) -> None:
    """A worker stopping cleanly removes its heartbeat row."""
    TaskWorker.objects.filter(pk=worker_id).delete()


def workers_alive(now: datetime | None = None) -> set[str]:
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    return set(TaskWorker.objects.filter(seen_at__gte=cutoff).values_list("pk", flat=True))


# --- the task engines -------------------------------------------------------------------------
def _engine() -> str:
    backend = task_backends["default"]
    if isinstance(backend, DatabaseBackend):
        return "database"
    if type(backend).__module__.startswith("django_tasks_rq"):
        return "rq"
    return "other"


def _rq_queues() -> list[Any]:
    backend: Any = task_backends["default"]
    return list(backend._get_queues())


def _rq_jobs(queue: Any, ids: Iterable[str]) -> list[Any]:
    from django_tasks_rq.backend import Job

    return [job for job in Job.fetch_many(list(ids), connection=queue.connection) if job]


def live_task_args(task: Task[Any, Any], *, now: datetime | None = None) -> set[str]:
    """First arguments of the ``task`` jobs queued (or scheduled) or running on a live worker.

    A running job counts as live if its worker was heard from within ``WORKER_LOST_SECONDS``,
    or if it started less than that long ago (a worker without a heartbeat, just started).
    An engine that cannot be inspected says nothing is live.
    """
    now = now or timezone.now()
    alive = workers_alive(now)
    recent = now - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    found: set[str] = set()
    engine = _engine()
    if engine == "database":
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(
            task_path=task.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        ).values_list("status", "worker_ids", "started_at", "args_kwargs")
        for status, worker_ids, started_at, args_kwargs in rows:
            running_live = bool(worker_ids and worker_ids[-1] in alive) or bool(
                started_at and started_at >= recent
            )
            if (status == TaskResultStatus.READY or running_live) and args_kwargs.get("args"):
                found.add(str(args_kwargs["args"][0]))
    elif engine == "rq":
        from rq.registry import ScheduledJobRegistry, StartedJobRegistry

        for queue in _rq_queues():
            waiting = [
                *queue.get_job_ids(),
                *ScheduledJobRegistry(queue=queue).get_job_ids(cleanup=False),  # type: ignore[no-untyped-call]
            ]
            started = StartedJobRegistry(queue=queue).get_job_ids(cleanup=False)
            for job in _rq_jobs(queue, [*waiting, *started]):
                if job.func_name != task.module_path or not job.args:
                    continue
                if job.id in waiting or _rq_running_live(job, alive, recent):
                    found.add(str(job.args[0]))
    return found


def _rq_running_live(job: Any, alive: set[str], recent: datetime) -> bool:
    started = job.started_at
    if started is not None and timezone.is_naive(started):
        started = timezone.make_aware(started, UTC)
    return bool(job.worker_name in alive or (started is not None and started >= recent))


# --- 1. lost jobs -----------------------------------------------------------------------------
def lost_jobs_requeue(*, now: datetime | None = None) -> tuple[int, int]:
    """Put back on the queue the jobs whose worker is gone; (requeued, given up as failed)."""
    now = now or timezone.now()
    engine = _engine()
    if engine == "database":
        return _db_lost_jobs_requeue(now)
    if engine == "rq":
        return _rq_lost_jobs_requeue(now)
    return 0, 0


def _db_lost_jobs_requeue(now: datetime) -> tuple[int, int]:
    from django_tasks_db.models import DBTaskResult

    alive = workers_alive(now)
    cutoff = now - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    requeued = failed = 0
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        )
        for job in running:
            worker = job.worker_ids[-1] if job.worker_ids else ""
            if worker in alive:
                continue
            if len(job.worker_ids) >= settings.TASK_MAX_CLAIMS:
                job.status = TaskResultStatus.FAILED
                job.finished_at = now
                job.exception_class_path = LOST_JOB_ERROR
                job.traceback = (
                    f"The worker {worker or '?'} running this job stopped (no heartbeat for "
                    f"{settings.WORKER_LOST_SECONDS:g} s), {len(job.worker_ids)} time(s): not "
                    "retried again."
                )
                job.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                failed += 1
                log.error("job %s (%s) lost its worker too often: failed", job.pk, job.task_path)
            else:
                # Back to waiting, as it was before it was claimed; worker_ids keeps the history.
                job.status = TaskResultStatus.READY
                job.started_at = None
                job.save(update_fields=["status", "started_at"])
                requeued += 1
                log.warning(
                    "job %s (%s) lost worker %s: queued again", job.pk, job.task_path, worker
                )
    return requeued, failed


def _rq_lost_jobs_requeue(now: datetime) -> tuple[int, int]:
    from rq.job import JobStatus
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    alive = workers_alive(now)
    cutoff = now - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    requeued = failed = 0
    for queue in _rq_queues():
        registry = StartedJobRegistry(queue=queue)
        for job in _rq_jobs(queue, registry.get_job_ids(cleanup=False)):
            if job.get_status() != JobStatus.STARTED or _rq_running_live(job, alive, cutoff):
                continue
            claims = int(job.meta.get("billingdesk_claims", 1))
            registry.remove_executions(job)
            if claims >= settings.TASK_MAX_CLAIMS:
                FailedJobRegistry(queue=queue).add(
                    job, exc_string=f"{LOST_JOB_ERROR}: the worker {job.worker_name} stopped"
                )
                job.set_status(JobStatus.FAILED)
                failed += 1
                log.error("job %s (%s) lost its worker too often: failed", job.id, job.func_name)
                continue
            job.meta["billingdesk_claims"] = claims + 1
            job.save_meta()
            job.started_at = None
            queue.enqueue_job(job)
            requeued += 1
            log.warning(
                "job %s (%s) lost worker %s: queued again", job.id, job.func_name, job.worker_name
            )
    return requeued, failed


# --- 2. orphaned drains -----------------------------------------------------------------------
def orphaned_drains_requeue(*, now: datetime | None = None) -> int:
    """Queue a drain for each account with webhooks waiting and no drain that will run."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    # The flags are read before the jobs: a flag set with its job after this read is not seen,
    # and a job seen queued here was queued with (or after) the flag it answers.
    waiting_long = WebhookEvent.objects.filter(
        account=OuterRef("pk"), status=WebhookEvent.Status.PENDING, received_at__lt=cutoff
    )
    accounts = list(
        GatewayAccount.objects.filter(is_active=True)
        .filter(Q(drain_requested=True) | Exists(waiting_long))
        .values_list("pk", flat=True)
    )
    if not accounts:
        return 0
    live = live_task_args(webhook_account_drain, now=now)
    queued = 0
    for account_id in accounts:
        if str(account_id) not in live:
            webhook_drain_request(account_id=account_id, force=True)
            queued += 1
            log.warning("account %s had webhooks waiting with no drain: drain queued", account_id)
    return queued


# --- 3. unfinished backfills ------------------------------------------------------------------
def unfinished_backfills_requeue(
    *, failed_older_than: float = 0, now: datetime | None = None
) -> int:
    """Queue again the backfills a crash or an error left unfinished; returns how many.

    An account whose backfill job is already queued or running on a live worker (e.g. the
    retry a gateway outage scheduled) is left alone, so two workers do not walk the same run.
    ``failed_older_than``: leave a failed run alone for this many seconds (the periodic sweep
    retries a failing backfill every few minutes, not every sweep).
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SYNC_STALE_SECONDS)
    failed_before = now - timedelta(seconds=failed_older_than)
    account_ids = list(
        SyncRun.objects.filter(
            Q(status=SyncRun.Status.FAILED, updated_at__lte=failed_before)
            | Q(status=SyncRun.Status.RUNNING, updated_at__lt=stale),
            account__is_active=True,
        )
        .order_by()  # the model's ordering would make DISTINCT keep one row per run
        .values_list("account_id", flat=True)
        .distinct()
    )
    if not account_ids:
        return 0
    already = live_task_args(account_backfill_task, now=now)
    todo = [str(account_id) for account_id in account_ids if str(account_id) not in already]
    for account_id in todo:
        account_backfill_task.enqueue(account_id)
        log.warning("backfill of account %s was left unfinished: queued again", account_id)
    return len(todo)


# --- 4. retention -----------------------------------------------------------------------------
PRUNED_STATUSES = (
    WebhookEvent.Status.REJECTED,
    WebhookEvent.Status.DUPLICATE,
    WebhookEvent.Status.PROCESSED,
)


def webhook_events_prune(*, days: float | None = None, now: datetime | None = None) -> int:
    """Delete rejected, duplicate and processed events older than ``days``; how many.

    ``days`` defaults to ``WEBHOOK_RETENTION_DAYS``; 0 or less keeps everything. Pending and
    failed events are kept whatever their age. Deletes in batches, so no statement holds the
    table for long.
    """
    days = settings.WEBHOOK_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    total = 0
    while True:
        ids = list(
            WebhookEvent.objects.filter(status__in=PRUNED_STATUSES, received_at__lt=cutoff)
            .order_by()
            .values_list("pk", flat=True)[:_PRUNE_BATCH]
        )
        if not ids:
            return total
        total += WebhookEvent.objects.filter(pk__in=ids).delete()[0]


def task_results_prune(*, days: float | None = None, now: datetime | None = None) -> int:
    """Delete the database queue's finished job rows older than ``days``; how many."""
    days = settings.TASK_RESULT_RETENTION_DAYS if days is None else days
    if days <= 0 or _engine() != "database":
        return 0
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - timedelta(days=days)
    total = 0
    while True:
        ids = list(
            DBTaskResult.objects.finished()
            .filter(finished_at__lt=cutoff)
            .order_by()
            .values_list("pk", flat=True)[:_PRUNE_BATCH]
        )
        if not ids:
            return total
        total += DBTaskResult.objects.filter(pk__in=ids).delete()[0]


# --- the sweep --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SweepResult:
    jobs_requeued: int = 0
    jobs_failed: int = 0
    drains: int = 0
    backfills: int = 0
    pruned: int = 0

    def __bool__(self) -> bool:
        return any((self.jobs_requeued, self.jobs_failed, self.drains, self.backfills, self.pruned))


def recovery_sweep(*, prune: bool = False, now: datetime | None = None) -> SweepResult:
    """One pass of steps 1-3 (and 4 with ``prune``); see the module's docstring."""
    now = now or timezone.now()
    requeued, failed = lost_jobs_requeue(now=now)
    drains = orphaned_drains_requeue(now=now)
    backfills = unfinished_backfills_requeue(failed_older_than=settings.SYNC_STALE_SECONDS, now=now)
    pruned = (webhook_events_prune(now=now) + task_results_prune(now=now)) if prune else 0
    TaskWorker.objects.filter(seen_at__lt=now - _WORKER_ROW_KEPT).delete()
    return SweepResult(requeued, failed, drains, backfills, pruned)
