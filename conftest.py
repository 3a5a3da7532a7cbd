"""Fixtures shared by the whole suite (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.management.commands import db_worker


@pytest.fixture(autouse=True)
def _webhook_drains_without_delay(settings: Any) -> None:
    """Tests drain with the batch worker, which runs only jobs already due: no delay here
    (the delay itself is tested where drains are queued)."""
    settings.WEBHOOK_DRAIN_DELAY_SECONDS = 0


def run_pending_on_commit() -> int:
    """Run the callbacks a test's never-committing transaction is holding; return how many."""
    pending = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    for _savepoints, callback, _robust in pending:
        callback()
    return len(pending)


@pytest.fixture
def drain_tasks(db: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run queued background work the way `billingdesk worker` does, until none is left.

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
            call_command(
                "db_worker",
                batch=True,
                startup_delay=False,
                queue_name="*",
                verbosity=0,
                reload=False,
            )
            if not queued and not connection.run_on_commit:
                return

    return drain
