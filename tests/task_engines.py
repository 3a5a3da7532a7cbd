"""The task engines the suite can run its worker-dependent tests on.

``BILLINGDESK_TEST_TASK_BACKEND`` selects it: ``database`` (the default, django_tasks_db) or
``rq`` (django_tasks_rq on the Redis at ``BILLINGDESK_TEST_REDIS_URL``, by default
``redis://127.0.0.1:6379/2``, emptied around each test). The root conftest's ``task_engine``
fixture switches the backend and ``drain_tasks`` runs the engine's own worker in-process;
``jobs_of`` lists one task's jobs whatever the engine, for tests that look at the queue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django_tasks.base import Task

ENGINE = os.environ.get("BILLINGDESK_TEST_TASK_BACKEND", "database")
REDIS_URL = os.environ.get("BILLINGDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
RQ_BACKEND = "django_tasks_rq.RQBackend"


@dataclass(frozen=True)
class QueuedJob:
    args: list[Any]
    run_after: datetime | None


def run_pending_on_commit() -> int:
    """Run the callbacks a test's never-committing transaction is holding; return how many."""
    pending = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    for _savepoints, callback, _robust in pending:
        callback()
    return len(pending)


def jobs_of(task: Task[Any, Any], *, commit_pending: bool = True) -> list[QueuedJob]:
    """Every job of ``task`` the engine holds (waiting, scheduled, running or finished).

    Jobs waiting for the test's transaction to commit are enqueued first: with RQ a job is
    only enqueued once the transaction that needs it commits. ``commit_pending=False`` when
    the test has run them already (``django_capture_on_commit_callbacks(execute=True)``
    leaves them in the list).
    """
    if commit_pending:
        run_pending_on_commit()
    if ENGINE != "rq":
        from django_tasks_db.models import DBTaskResult, get_date_max

        rows = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at")
        return [
            QueuedJob(
                args=row.args_kwargs["args"],
                run_after=None if row.run_after == get_date_max() else row.run_after,
            )
            for row in rows
        ]
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import registry

    queue = django_rq.get_queue("default", job_class=Job)
    scheduled = registry.ScheduledJobRegistry(queue=queue)
    ids = [*queue.get_job_ids(), *scheduled.get_job_ids(cleanup=False)]
    for kind in ("StartedJobRegistry", "FinishedJobRegistry", "FailedJobRegistry"):
        ids += getattr(registry, kind)(queue=queue).get_job_ids(cleanup=False)
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job]
    return [
        QueuedJob(
            args=list(job.args),
            run_after=scheduled.get_scheduled_time(job) if job.id in scheduled else None,
        )
        for job in jobs
        if job.func_name == task.module_path
    ]


def run_queued_jobs() -> None:
    """Run the jobs due now with the engine's own worker, in this process, then return."""
    if ENGINE != "rq":
        from django.core.management import call_command

        call_command(
            "db_worker",
            batch=True,
            startup_delay=False,
            queue_name="*",
            verbosity=0,
            reload=False,
        )
        return
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=Job)
    # SimpleWorker runs each job in this process (no fork), so it sees the test's
    # transaction; burst: until the queue is empty.
    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
