"""Crash recovery with real worker processes: one is killed with SIGKILL mid-job, another keeps
running, and the work is finished without any worker being (re)started.

Each test builds a throw-away installation the processes share: an SQLite file, or with
DATABASE_URL a PostgreSQL database of its own (``<name>_crash``); the task engine is the
database queue, or RQ on Redis db 2 with ``BILLINGDESK_TEST_TASK_BACKEND=rq``. The workers
load ``tests.fakes.crash_settings`` (billingdesk's settings plus a slow sandbox gateway and a
drain that hangs on request, see ``tests/fakes/crash_app``), with a heartbeat every 0.5 s, a
worker counted lost after 3 s of silence and a sweep every second.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.migrated import postgres_migrated, sqlite_migrated

ROOT = Path(__file__).resolve().parents[1]
# How long a step may take on a loaded machine before the test gives up (not a limit on the
# code: recovery itself takes about WORKER_LOST_AFTER + WORKER_SWEEP seconds).
PATIENCE = 180.0

SEED = """
import json, sys, django
django.setup()
from datetime import timedelta
from django.utils import timezone
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.models import SandboxObject
account = GatewayAccount.objects.create(kind="slow", name="Slow shop", default_currency="EUR")
now = timezone.now()
SandboxObject.objects.bulk_create(
    SandboxObject(
        account=account, object_id=f"cus_{n}", kind="customer", created=now, updated=now,
        data={"object": "customer", "id": f"cus_{n}", "email": f"p{n}@example.com",
              "created": now.isoformat(), "updated": (now + timedelta(microseconds=n)).isoformat()},
    )
    for n in range(int(sys.argv[1]))
)
print(json.dumps(str(account.pk)))
"""

ENQUEUE_BACKFILL = """
import sys, django
django.setup()
from billingdesk.gateways.tasks import account_backfill_task
account_backfill_task.enqueue(sys.argv[1])
"""

# Real intake (signature check, store, drain request) of sandbox-signed customer events.
DELIVER = """
import json, sys, django
django.setup()
from django.utils import timezone
from billingdesk.core.signing import sign_header
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.webhooks import webhook_receive
account = GatewayAccount.objects.get(pk=sys.argv[1])
codes = []
for n in range(int(sys.argv[2])):
    now = timezone.now().isoformat()
    body = json.dumps({
        "object": "event", "id": f"evt_{n}", "type": "customer.updated", "created": now,
        "data": {"object": {"object": "customer", "id": f"cus_w{n}", "email": f"w{n}@example.com",
                            "created": now, "updated": now}},
    }).encode()
    headers = {"Billingdesk-Signature": sign_header(body, account.webhook_secret)}
    codes.append(webhook_receive(account=account, headers=headers, body=body).status_code)
print(json.dumps(codes))
"""


def _engine() -> str:
    return os.environ.get("BILLINGDESK_TEST_TASK_BACKEND", "database")


@dataclass
class Installation:
    """A shared database (and Redis db) for a few billingdesk processes."""

    tmp: Path
    env: dict[str, str]
    database_url: str | None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def python(self, script: str, *args: str) -> Any:
        result = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None

    def billingdesk(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "billingdesk", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    def worker_start(self, **extra_env: str) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        log = (self.tmp / f"worker-{n}.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "billingdesk", "worker", "--interval", "0.2"],
            cwd=ROOT,
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches RQ's work horse too
        )
        self.workers.append(worker)
        return worker

    def log(self, index: int) -> str:
        return (self.tmp / f"worker-{index}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.tmp.glob("worker-*.log"))
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the shared database directly (fast enough to poll); UUIDs as given."""
        if self.database_url is None:
            # Django stores a UUID on SQLite as 32 hex digits.
            params = tuple(p.hex if isinstance(p, uuid.UUID) else p for p in params)
            with closing(sqlite3.connect(self.tmp / "billingdesk.sqlite3", timeout=30)) as db:
                return list(db.execute(sql.replace("%s", "?"), params).fetchall())
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as db:
            return list(db.execute(sql, params).fetchall())

    def wait_for(self, what: str, check: Any) -> Any:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            for worker in self.workers:
                assert worker.poll() is None or worker.returncode == -signal.SIGKILL, (
                    f"a worker exited ({worker.returncode}) while waiting for {what}:\n"
                    + self.logs()
                )
            time.sleep(0.2)
        pytest.fail(f"gave up waiting for {what}:\n{self.logs()}")


def _kill(worker: subprocess.Popen[bytes], marker: dict[str, int]) -> None:
    """SIGKILL the worker's whole process group (with RQ, its work horse too)."""
    os.killpg(worker.pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.kill(marker["pid"], signal.SIGKILL)
    worker.wait()


def _owner(workers: list[subprocess.Popen[bytes]], marker: dict[str, int]) -> int:
    """Which of the workers the marker's process is (or is the work horse of)."""
    for index, worker in enumerate(workers):
        if worker.pid in (marker["pid"], marker["ppid"]):
            return index
    pytest.fail(f"no worker has pid {marker}")


@pytest.fixture
def installation(tmp_path: Path, migrated_cache: Path) -> Iterator[Installation]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env |= {
        "BILLINGDESK_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.fakes.crash_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONUNBUFFERED": "1",
        "BILLINGDESK_LOG_LEVEL": "WARNING",
        "BILLINGDESK_WORKER_HEARTBEAT": "0.5",
        "BILLINGDESK_WORKER_LOST_AFTER": "3",
        "BILLINGDESK_WORKER_SWEEP": "1",
        "BILLINGDESK_WEBHOOK_DRAIN_DELAY": "0",
    }
    engine_env: dict[str, str] = {}
    if _engine() == "rq":
        import redis

        redis_url = os.environ.get("BILLINGDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
        redis.Redis.from_url(redis_url).flushdb()
        engine_env = {
            "BILLINGDESK_TASK_BACKEND": "django_tasks_rq.RQBackend",
            "BILLINGDESK_REDIS_URL": redis_url,
        }
        env |= engine_env
    database_url = None
    # Migrated once per session and copied (tests/migrated.py): migrating is not the subject.
    # The engine's settings go to the template too (RQ installs django_rq's tables).
    if os.environ.get("DATABASE_URL"):
        parts = urlsplit(os.environ["DATABASE_URL"])
        name = f"{parts.path.lstrip('/') or 'billingdesk'}_crash"
        database_url = postgres_migrated(
            os.environ["DATABASE_URL"], name, tmp_path, migrated_cache, engine_env
        )
        env["DATABASE_URL"] = database_url
    else:
        sqlite_migrated(tmp_path, migrated_cache, engine_env)
    site = Installation(tmp=tmp_path, env=env, database_url=database_url)
    try:
        yield site
    finally:
        for worker in site.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


def _both_workers_up(site: Installation) -> None:
    site.wait_for(
        "two worker heartbeats",
        lambda: site.query("SELECT COUNT(*) FROM gateways_taskworker")[0][0] == 2,
    )
    # The heartbeat row is written just before the "started" line: wait for the line too.
    engine = "from RQ" if _engine() == "rq" else "from the database queue"
    site.wait_for(
        f"both workers taking jobs {engine}",
        lambda: all(engine in site.log(n) for n in range(2)),
    )


def test_a_backfill_resumes_on_the_surviving_worker_after_its_worker_is_killed(
    installation: Installation,
) -> None:
    site = installation
    total = 60  # 12 pages of 5, 1 s each: a loaded machine still kills it mid-run
    account = uuid.UUID(site.python(SEED, str(total)))
    marker = site.tmp / "backfill-owner"
    workers = [
        site.worker_start(BD_BACKFILL_MARKER=str(marker), BD_SLOW_PAGE_SECONDS="1")
        for _ in range(2)
    ]
    _both_workers_up(site)

    site.python(ENQUEUE_BACKFILL, str(account))

    def pages() -> int:
        rows = site.query("SELECT pages FROM gateways_syncrun WHERE account_id = %s", account)
        return int(rows[0][0]) if rows else 0

    site.wait_for("three pages stored", lambda: pages() >= 3)
    owner = json.loads(marker.read_text())
    victim = _owner(workers, owner)
    _kill(workers[victim], owner)
    at_kill = pages()
    assert at_kill < 12, "the backfill finished before the kill: make it slower"

    def done() -> bool:
        rows = site.query(
            "SELECT status, counts, pages FROM gateways_syncrun WHERE account_id = %s", account
        )
        return bool(rows) and rows[0][0] == "done"

    site.wait_for("the backfill to finish on the other worker", done)

    survivor = workers[1 - victim]
    assert survivor.poll() is None  # still the same process: nothing was restarted
    assert "queued again" in site.log(1 - victim)  # by the survivor's sweep
    _, counts, stored_pages = site.query(
        "SELECT status, counts, pages FROM gateways_syncrun WHERE account_id = %s", account
    )[0]
    counts = json.loads(counts) if isinstance(counts, str) else counts
    assert counts == {"customer": total}  # resumed at its cursor: no page stored twice
    # The run's last page is the empty one ending customers; a kill mid-page replays at most
    # the page in flight, which is not counted twice either.
    assert stored_pages >= 12
    assert site.query("SELECT COUNT(*) FROM billing_customer WHERE account_id = %s", account) == [
        (total,)
    ]
    if _engine() == "database":
        # The killed worker's job is not left RUNNING: it was put back and finished.
        assert site.query(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
        ) == [(0,)]


def test_a_drain_killed_before_clearing_the_flag_is_finished_by_the_surviving_worker(
    installation: Installation,
) -> None:
    site = installation
    account = uuid.UUID(site.python(SEED, "0"))
    hang = site.tmp / "hung-drain"
    workers = [site.worker_start(BD_HANG_FIRST_DRAIN=str(hang)) for _ in range(2)]
    _both_workers_up(site)

    codes = site.python(DELIVER, str(account), "102")
    assert codes == [200] * 102

    site.wait_for("a worker to claim the drain and hang", hang.exists)
    time.sleep(0.1)  # the marker is written before the hang
    owner = json.loads(hang.read_text())
    victim = _owner(workers, owner)
    _kill(workers[victim], owner)
    # Killed after claiming the drain, before its first transaction: the flag is still set.
    assert site.query("SELECT drain_requested FROM gateways_gatewayaccount") in ([(1,)], [(True,)])

    def drained() -> bool:
        rows = site.query("SELECT COUNT(*) FROM gateways_webhookevent WHERE status = 'processed'")
        return rows == [(102,)]

    site.wait_for("all 102 events processed by the surviving worker", drained)

    assert workers[1 - victim].poll() is None
    assert "queued again" in site.log(1 - victim)  # by the survivor's sweep
    assert site.query("SELECT COUNT(*) FROM billing_customer WHERE account_id = %s", account) == [
        (102,)
    ]
    site.wait_for(
        "the drain flag cleared",
        lambda: (
            site.query("SELECT drain_requested FROM gateways_gatewayaccount")
            in ([(0,)], [(False,)])
        ),
    )
