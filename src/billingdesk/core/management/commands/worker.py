"""`billingdesk worker`: run background jobs (webhook processing, backfills, …).

Before taking jobs it puts back on the queue what a crash may have dropped: webhook events
stored as pending but never enqueued, and backfills left unfinished. Both are safe to run
twice (events are processed idempotently, a backfill resumes from its committed cursor).
Run as many workers as needed, on as many machines, against the same database.
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from billingdesk.core.management import require_migrated
from billingdesk.gateways.models import SyncRun
from billingdesk.gateways.tasks import account_backfill_task
from billingdesk.gateways.webhooks import webhook_events_requeue

# A live backfill saves its run after every page; one untouched for this long has no process.
STALE_RUN = timedelta(minutes=2)

_DB_BACKEND = "django_tasks_db.DatabaseBackend"
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


def _backfills_in_db_queue() -> set[str]:
    """Account ids with a backfill job already waiting or running in the database queue."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        task_path=account_backfill_task.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).values_list("args_kwargs", flat=True)
    return {str(job["args"][0]) for job in queued if job.get("args")}


def unfinished_backfills_requeue(*, database_queue: bool) -> int:
    """Enqueue again the backfills a crash or an error left unfinished; returns how many.

    With the database queue, an account whose backfill job is already queued (e.g. the retry
    a gateway outage scheduled) is left alone, so two workers do not walk the same run.
    """
    stale = timezone.now() - STALE_RUN
    already = _backfills_in_db_queue() if database_queue else set()
    account_ids = list(
        SyncRun.objects.filter(
            Q(status=SyncRun.Status.FAILED)
            | Q(status=SyncRun.Status.RUNNING, updated_at__lt=stale),
            account__is_active=True,
        )
        .order_by()  # the model's ordering would make DISTINCT keep one row per run
        .values_list("account_id", flat=True)
        .distinct()
    )
    todo = [str(account_id) for account_id in account_ids if str(account_id) not in already]
    for account_id in todo:
        account_backfill_task.enqueue(account_id)
    return len(todo)


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
        backend = str(settings.TASKS["default"]["BACKEND"])
        database_queue = self._is_database_backend(backend)
        events = webhook_events_requeue()
        runs = unfinished_backfills_requeue(database_queue=database_queue)
        if events or runs:
            self.stdout.write(
                f"Queued again: {events} pending webhook event(s), {runs} unfinished backfill(s)."
            )
        if backend in _INLINE_BACKENDS:
            self.stdout.write(
                f"The task backend {backend} {_INLINE_BACKENDS[backend]}: no worker is needed."
            )
            return
        if not database_queue:
            raise CommandError(
                f"BILLINGDESK_TASK_BACKEND is {backend}, which has its own worker: start that "
                "backend's worker (see its documentation) with DJANGO_SETTINGS_MODULE="
                f"{settings.SETTINGS_MODULE}. `billingdesk worker` runs only the database queue."
            )
        if not options["batch"]:
            # Periodic: reconcile stale action claims, verify and checkpoint the audit log.
            from billingdesk.actions.recovery import actions_sweep_schedule

            actions_sweep_schedule()
        self.stdout.write("Worker started: taking jobs from the database queue (Ctrl-C stops).")
        call_command(
            "db_worker",
            queue_name="*",
            batch=options["batch"],
            interval=options["interval"],
            reload=False,
            startup_delay=not options["batch"],
            verbosity=options["verbosity"],
            stdout=self.stdout._out,
            stderr=self.stderr._out,
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
