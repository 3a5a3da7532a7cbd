"""Helpers for background work through Django's Tasks API (``django-tasks``).

Jobs take ids, are idempotent, and are enqueued only once the transaction that made them
necessary has committed, so a worker never sees work whose data is not yet visible.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend


def enqueue_on_commit(task: Task[Any, Any], *args: Any, delay: float = 0, **kwargs: Any) -> None:
    def _enqueue() -> None:
        if delay:
            task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(*args, **kwargs)
        else:
            task.enqueue(*args, **kwargs)

    transaction.on_commit(_enqueue)


def enqueue_in_transaction(
    task: Task[Any, Any], *args: Any, delay: float = 0, **kwargs: Any
) -> None:
    """Enqueue as part of the current transaction when the queue lives in the database.

    The job row then commits or rolls back with the data it is about, so neither can exist
    without the other. Any other backend is enqueued after commit instead. ``delay``: run
    no sooner than this many seconds from now.
    """
    if isinstance(task.get_backend(), DatabaseBackend):
        if delay:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        task.enqueue(*args, **kwargs)
    else:
        enqueue_on_commit(task, *args, delay=delay, **kwargs)
