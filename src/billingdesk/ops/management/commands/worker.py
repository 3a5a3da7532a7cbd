"""`billingdesk worker`: run background jobs (webhook processing, backfills, …).

Before taking jobs it puts back on the queue what a crash may have dropped: webhook events
stored as pending but never enqueued, and backfills left unfinished. While it runs, a thread
of its own writes the worker's heartbeat and sweeps for what other workers' crashes left
behind (``billingdesk.gateways.recovery``): jobs whose worker died, drains and backfills with
no job, webhook events past their retention. All of it is safe to run twice (events are
processed idempotently, a backfill resumes from its committed cursor). Run as many workers as
needed, on as many machines, against the same database (and, with RQ, the same Redis).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.module_loading import import_string

from billingdesk.core.management import require_migrated
from billingdesk.gateways.recovery import (
    lost_jobs_requeue,
    recovery_sweep,
    unfinished_backfills_requeue,
    worker_forget,
    worker_heartbeat,
    worker_id_new,
)
from billingdesk.gateways.webhooks import webhook_events_requeue
from billingdesk.inbound.recovery import inbound_sweep

log = logging.getLogger(__name__)

_DB_BACKEND = "django_tasks_db.DatabaseBackend"
_RQ_BACKEND = "django_tasks_rq.RQBackend"
# Retention runs at most this often per worker (it is a large DELETE when it has work).
PRUNE_EVERY_SECONDS = 3600.0
_INLINE_BACKENDS = {
    "django_tasks.backends.immediate.ImmediateBackend": "runs each job at once, in the process "
    "that enqueues it",
    "django_tasks.backends.dummy.DummyBackend": "keeps jobs without running them (tests only)",
}


def _interval(value: str) -> float:
    number = float(value)
    if not 0 <= number < 3600:
        raise ValueError(value)
    return number


class Upkeep(threading.Thread):
    """The worker's heartbeat and recovery sweep, beside the thread that runs jobs.

    A thread, not a job: it must go on while a long job occupies the worker, and it must not
    depend on the queue it repairs. It has its own database connection, closed when it stops.
    """

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"upkeep-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.stopping = threading.Event()

    def run(self) -> None:
        clock = time.monotonic
        # Workers started together do not all sweep at the same moment.
        next_sweep = clock() + random.uniform(0, settings.WORKER_SWEEP_SECONDS)  # noqa: S311
        next_prune = clock() + random.uniform(0, settings.WORKER_SWEEP_SECONDS)  # noqa: S311
        try:
            while not self.stopping.is_set():
                try:
                    worker_heartbeat(self.worker_id)
                    if clock() >= next_sweep:
                        prune = clock() >= next_prune
                        result = recovery_sweep(prune=prune)
                        if result:
                            log.warning("recovery sweep: %s", result)
                        inbound_sweep()  # inbound email left waiting by a crash
                        next_sweep = clock() + settings.WORKER_SWEEP_SECONDS
                        if prune:
                            next_prune = clock() + PRUNE_EVERY_SECONDS
                except Exception:  # the database may be away for a while: try again later
                    log.exception("worker upkeep failed; retrying")
                    connection.close()
                self.stopping.wait(settings.WORKER_HEARTBEAT_SECONDS)
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Run background jobs: webhook processing, backfills and other queued work."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Run the jobs waiting now, then exit."
        )
        parser.add_argument(
            "--interval",
            type=_interval,
            default=1.0,
            help="Seconds to wait between polls when the queue is empty (default: 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated()
        heartbeat, lost = settings.WORKER_HEARTBEAT_SECONDS, settings.WORKER_LOST_SECONDS
        if not (heartbeat > 0 and lost > 2 * heartbeat and settings.WORKER_SWEEP_SECONDS > 0):
            raise CommandError(
                "BILLINGDESK_WORKER_LOST_AFTER must be more than twice "
                f"BILLINGDESK_WORKER_HEARTBEAT (now {lost:g} and {heartbeat:g} s), and "
                "BILLINGDESK_WORKER_SWEEP positive: otherwise live workers would be taken for dead."
            )
        backend = str(settings.TASKS["default"]["BACKEND"])
        database_queue = self._is_database_backend(backend)
        rq_queue = self._is_rq_backend(backend)
        if not (database_queue or rq_queue or backend in _INLINE_BACKENDS):
            raise CommandError(
                f"BILLINGDESK_TASK_BACKEND is {backend}, which has its own worker: start that "
                "backend's worker (see its documentation) with DJANGO_SETTINGS_MODULE="
                f"{settings.SETTINGS_MODULE}. `billingdesk worker` runs the database queue "
                f"({_DB_BACKEND}) and RQ ({_RQ_BACKEND})."
            )
        jobs, _ = lost_jobs_requeue()
        events = webhook_events_requeue()
        runs = unfinished_backfills_requeue()
        mails = inbound_sweep()
        if events or runs or jobs or mails:
            self.stdout.write(
                f"Queued again: {events} pending webhook event(s), {runs} unfinished "
                f"backfill(s), {jobs} job(s) of stopped workers, {mails} inbound email(s)."
            )
        if backend in _INLINE_BACKENDS:
            self.stdout.write(
                f"The task backend {backend} {_INLINE_BACKENDS[backend]}: no worker is needed."
            )
            return
        worker_id = worker_id_new()
        worker_heartbeat(worker_id)
        upkeep = Upkeep(worker_id)
        if not options["batch"]:
            # Periodic: reconcile stale action claims, verify and checkpoint the audit log.
            from billingdesk.actions.recovery import actions_sweep_schedule

            actions_sweep_schedule()
            upkeep.start()
        try:
            if rq_queue:
                self._run_rq(worker_id, options)
            else:
                self._run_db(worker_id, options)
        finally:
            upkeep.stopping.set()
            if upkeep.is_alive():
                upkeep.join(timeout=10)
            worker_forget(worker_id)

    def _run_db(self, worker_id: str, options: dict[str, Any]) -> None:
        self.stdout.write(
            f"Worker {worker_id} started: taking jobs from the database queue (Ctrl-C stops)."
        )
        call_command(
            "db_worker",
            queue_name="*",
            batch=options["batch"],
            interval=options["interval"],
            reload=False,
            startup_delay=not options["batch"],
            worker_id=worker_id,
            verbosity=options["verbosity"],
            stdout=self.stdout._out,
            stderr=self.stderr._out,
        )

    def _run_rq(self, worker_id: str, options: dict[str, Any]) -> None:
        queues = sorted(settings.RQ_QUEUES)
        self.stdout.write(
            f"Worker {worker_id} started: taking jobs from RQ at {settings.REDIS_URL} "
            f"(queues {', '.join(queues)}; Ctrl-C stops)."
        )
        # The scheduler moves delayed jobs (drains are queued a moment later, retries minutes
        # later) onto the queue; RQ lets one worker at a time hold it.
        call_command(
            "rqworker",
            *queues,
            name=worker_id,
            job_class="django_tasks_rq.backend.Job",
            with_scheduler=True,
            burst=options["batch"],
            verbosity=options["verbosity"],
            stdout=self.stdout._out,
            stderr=self.stderr._out,
        )

    @staticmethod
    def _is_rq_backend(path: str) -> bool:
        if path == _RQ_BACKEND:
            return True
        try:
            backend_class = import_string(path)
        except ImportError:
            return False
        return isinstance(backend_class, type) and backend_class.__module__.startswith(
            "django_tasks_rq"
        )

    @staticmethod
    def _is_database_backend(path: str) -> bool:
        if path == _DB_BACKEND:
            return True
        from django_tasks_db.backend import DatabaseBackend

        try:
            backend_class = import_string(path)
        except ImportError:
            return False
        return isinstance(backend_class, type) and issubclass(backend_class, DatabaseBackend)
