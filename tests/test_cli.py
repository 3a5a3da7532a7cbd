"""The `billingdesk` console command and billingdesk's management commands.

Most tests run the real console script as a separate process, each with its own data
directory (and so its own SQLite database, whatever DATABASE_URL says); the sync and worker
tests call the commands in-process against the test database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billingdesk.core.errors import GatewayUnavailable
from billingdesk.gateways import registry
from billingdesk.gateways.interface import GwCustomer, ObjectKind, Page
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.recovery import unfinished_backfills_requeue
from tests.fakes import memory_gateway
from tests.fakes.memory_gateway import MemoryConnector
from tests.migrated import sqlite_migrated

BILLINGDESK = Path(sys.executable).parent / "billingdesk"
DEMO_READY_TIMEOUT = 120.0
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env["BILLINGDESK_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(
    *args: str, data_dir: Path, timeout: float = 120, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BILLINGDESK), *args],
        env={**_env(data_dir), **extra_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_billingdesk_commands(tmp_path: Path) -> None:
    result = run("--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("demo", "serve", "worker", "sync"):
        assert f"\n  {command} " in result.stdout
    assert "billingdesk help" in result.stdout  # how to list Django's commands
    assert "migrate" not in result.stdout.split("billingdesk commands:")[1].split("\n\n")[0]


def test_no_arguments_prints_the_overview(tmp_path: Path) -> None:
    result = run(data_dir=tmp_path)
    assert result.returncode == 0
    assert "billingdesk commands:" in result.stdout


def test_django_commands_work_through_it(tmp_path: Path) -> None:
    result = run("help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "migrate" in result.stdout


def test_sync_of_an_unknown_account_exits_2_without_traceback(
    tmp_path: Path, migrated_cache: Path
) -> None:
    sqlite_migrated(tmp_path, migrated_cache)
    result = run("sync", "no-such-account", data_dir=tmp_path)
    assert result.returncode == 2
    assert "no-such-account" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_commands_refuse_an_unmigrated_database_in_plain_words(tmp_path: Path) -> None:
    result = run("worker", "--batch", data_dir=tmp_path)
    assert result.returncode == 1
    assert "billingdesk migrate" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATABASE_URL", "nonsense"), ("BILLINGDESK_WEBHOOK_MAX_ATTEMPTS", "many")],
)
def test_bad_configuration_is_reported_in_plain_words(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run("migrate", data_dir=tmp_path, **{variable: value})
    assert result.returncode == 1
    # Named by the system checks (billingdesk.config.checks), before anything ran.
    assert variable in result.stderr and "System check identified" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_reported_in_plain_words(tmp_path: Path) -> None:
    url = f"postgres://nobody@127.0.0.1:{_free_port()}/nothing"
    result = run("migrate", data_dir=tmp_path, DATABASE_URL=url)
    assert result.returncode == 1
    assert "Check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_sync_without_an_account_explains_usage(tmp_path: Path) -> None:
    result = run("sync", data_dir=tmp_path)
    assert result.returncode == 2
    assert "--all" in result.stderr


class FlakyConnector(MemoryConnector):
    """A memory gateway that can be made to fail while listing one kind of object."""

    kind = "flaky"
    failing_kind: ObjectKind | None = None

    def list_page(self, kind: ObjectKind, cursor: str | None) -> Page:
        if kind == type(self).failing_kind:
            raise GatewayUnavailable("the gateway answered 503")
        return super().list_page(kind, cursor)


@pytest.fixture
def flaky_account(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayAccount]:
    monkeypatch.setitem(registry._CONNECTORS, FlakyConnector.kind, FlakyConnector)
    monkeypatch.setattr(FlakyConnector, "failing_kind", None)
    account = GatewayAccount.objects.create(kind="flaky", name="Flaky shop")
    customers = [GwCustomer(id=f"cus_{n}", updated=T0, email=f"p{n}@example.com") for n in range(5)]
    memory_gateway.STORE[str(account.pk)] = {ObjectKind.CUSTOMER: list(customers)}
    yield account
    memory_gateway.STORE.pop(str(account.pk), None)


def test_sync_reports_a_gateway_outage_and_resumes_next_time(
    flaky_account: GatewayAccount,
) -> None:
    FlakyConnector.failing_kind = ObjectKind.PAYMENT_METHOD
    with pytest.raises(CommandError) as failure:
        call_command("sync", "flaky shop", stdout=StringIO(), stderr=StringIO())
    assert failure.value.returncode == 1
    assert "503" in str(failure.value) and "resume" in str(failure.value)
    run = SyncRun.objects.get(account=flaky_account)
    assert run.status == SyncRun.Status.FAILED
    assert run.counts == {"customer": 5}

    FlakyConnector.failing_kind = None
    out = StringIO()
    call_command("sync", str(flaky_account.pk), stdout=out, stderr=StringIO())
    assert "Resuming the interrupted sync of Flaky shop" in out.getvalue()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.DONE
    assert run.counts["customer"] == 5  # the customers were not fetched twice


def test_worker_requeues_an_unfinished_backfill_once(flaky_account: GatewayAccount) -> None:
    SyncRun.objects.create(account=flaky_account, status=SyncRun.Status.FAILED)
    assert unfinished_backfills_requeue() == 1
    # Already waiting in the queue: a second worker starting does not queue it again.
    assert unfinished_backfills_requeue() == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the demo runs on its embedded SQLite database; a shared DATABASE_URL would be "
    "seeded and served for real",
)
def test_demo_seeds_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [str(BILLINGDESK), "demo", "--port", str(port), "--persons", "30"],
            env=_env(tmp_path / "data"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup can reach the children
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEMO_READY_TIMEOUT
        while time.monotonic() < deadline:
            # Ready means what a user sees: the demo has printed its URLs (it does so once
            # the server answers), and the pages answer.
            announced = "demo is running" in log.read_text()
            if announced and _status(f"{base}/healthz") == 200 and _status(f"{base}/login/") == 200:
                break
            if demo.poll() is not None:
                pytest.fail(f"demo exited with {demo.returncode}:\n{log.read_text()}")
            time.sleep(0.5)
        else:
            pytest.fail(f"demo not ready after {DEMO_READY_TIMEOUT:.0f} s:\n{log.read_text()}")
        assert _status(f"{base}/static/core/billingdesk.css") == 200
        # The printed customer billing link opens the sample person's history (with a cookie).
        link = next(
            line.split()[-1] for line in log.read_text().splitlines() if "Customer billing" in line
        )
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(), urllib.request.ProxyHandler({})
        )
        with browser.open(link, timeout=10) as page:
            assert page.status == 200 and page.url == f"{base}/billing/"
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=30) == 0, log.read_text()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    output = log.read_text()
    assert "password demo-admin" in output
    assert "/webhooks/" in output
    assert "Traceback" not in output
    # Both children stopped with the demo: nothing listens on the port any more.
    time.sleep(0.5)
    assert _status(f"{base}/healthz") is None
