"""Fixtures shared by the whole suite (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_tasks_db.management.commands import db_worker
from tests import task_engines
from tests.task_engines import run_pending_on_commit, run_queued_jobs


@pytest.fixture(scope="session")
def migrated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests.migrated keeps the SQLite database migrated once for the session."""
    return tmp_path_factory.mktemp("migrated")


@pytest.fixture(autouse=True)
def _webhook_drains_without_delay(settings: Any) -> None:
    """Tests drain with the batch worker, which runs only jobs already due: no delay here
    (the delay itself is tested where drains are queued)."""
    settings.WEBHOOK_DRAIN_DELAY_SECONDS = 0


@pytest.fixture(autouse=True)
def task_engine(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The task engine of this run: ``database``, or ``rq`` with BILLINGDESK_TEST_TASK_BACKEND=rq
    (Redis db 2 by default, emptied before and after each test); see tests/task_engines.py."""
    if task_engines.ENGINE != "rq":
        yield "database"
        return
    import django_rq.settings
    import redis

    monkeypatch.setattr(django_rq.settings, "QUEUES", task_engines.RQ_QUEUES)
    settings.RQ_QUEUES = task_engines.RQ_QUEUES
    settings.TASKS = {"default": {"BACKEND": task_engines.RQ_BACKEND, "QUEUES": []}}
    server = redis.Redis.from_url(task_engines.REDIS_URL)
    server.flushdb()
    yield "rq"
    server.flushdb()


@pytest.fixture
def drain_tasks(db: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run queued background work the way `billingdesk worker` does, until none is left.

    With the engine of this run (``task_engine``): the database queue's worker, or RQ's.

    Tests run inside a transaction that never commits, so work enqueued "on commit" is
    enqueued here first; then the real database worker runs in batch mode. Work may enqueue
    more work, so this repeats (a bounded number of times, so a bug cannot spin forever).
    The worker recycles connections between tasks, which on PostgreSQL would drop the test's
    open transaction; only that recycling is switched off here.
    """
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def drain() -> None:
        for _ in range(20):
            queued = run_pending_on_commit()
            run_queued_jobs()
            if not queued and not connection.run_on_commit:
                return

    return drain
