"""Webhook intake benchmark: Stripe-signed events through the real HTTP server.

    .venv/bin/python bench/webhook_intake.py                     # worker running during intake
    .venv/bin/python bench/webhook_intake.py --process-after     # intake alone, worker after
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_whbench_1 \
        .venv/bin/python bench/webhook_intake.py                 # on a freshly created database

Starts ``billingdesk serve`` (Granian) and ``billingdesk worker`` on a fresh database (a
temporary SQLite file unless DATABASE_URL is set), then POSTs distinct ``charge.succeeded``
events signed with ``stripe.WebhookSignature.generate_signature_header`` (just before the run:
Stripe signatures carry a timestamp checked with a 5-minute tolerance) to the account's
``/webhooks/<uuid>/`` URL. Intake = signature check + raw event stored + drain requested +
2xx; its rate is events / wall time of the sends. Processing (parse + mirror upsert, in the
worker) is timed until every event is processed: from the first send, or with
``--process-after`` from the worker's start once intake is done.

The load generator shares the machine with the server, so by default it is ``wrk`` (C,
event-driven, one thread: a few percent of a core at these rates) driven by
``bench/webhook_intake.lua`` with the pre-signed bodies; ``--client python`` uses Python
threads instead, which take a large share of the CPU the server would otherwise get. wrk is
a benchmark-only tool (Debian: ``apt-get install -y wrk``), not a dependency of billingdesk.

Absolute rates move 3-4x between machines and hours here, so the run also reports ratios
measured in the same run (``--skip-djstripe`` / ``--skip-disk`` leave them out):

* **dj-stripe**: the same signed events (the same bodies, re-signed just before its turn) sent
  the same way to dj-stripe 2.11's webhook endpoint (``djstripe/webhook/<uuid>/``), served by
  the same Granian (WSGI, same workers and threads) from dj-stripe's own virtualenv
  (``var/bench/djstripe-venv``, created as ``bench/stripe_backfill.py`` does, plus psycopg and
  granian) on its own database (``DATABASE_URL`` + ``_djstripe`` on PostgreSQL, a file beside
  ours on SQLite). dj-stripe processes in the request: it re-fetches the charge (and the
  account, customer...) from the API, so both sides get localstripe (indexed,
  ``bench/localstripe_fast.py``) seeded with the charges the events carry, behind the test
  suite's Stripe proxy.
* **the disk's durable-commit rate**: on PostgreSQL ``pg_test_fsync`` (one 8 kB write + the
  server's ``wal_sync_method``, on a file in the same file system as the data directory) and
  the commits/s of a single-connection ``INSERT`` + ``COMMIT`` loop on the same server; on
  SQLite the same loop on a file in the data directory, WAL, ``synchronous=FULL`` (durable at
  each commit) and ``NORMAL`` (billingdesk's setting: durable at checkpoints). An intake that
  commits before it answers cannot exceed it by much (PostgreSQL's group commit lets several
  connections share one flush, so a ratio a little above 1 is possible).
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import stripe

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "whsec_bench_intake"
WRK_SCRIPT = Path(__file__).resolve().with_suffix(".lua")


def _event(i: int, account_n: int) -> str:
    return json.dumps(
        {
            "id": f"evt_bench_{account_n}_{i}",
            "object": "event",
            "type": "charge.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "data": {
                "object": {
                    "id": f"ch_bench_{i}",
                    "object": "charge",
                    "amount": 1000 + i % 500,
                    "currency": "eur",
                    "status": "succeeded",
                    "captured": True,
                    "refunded": False,
                    "amount_captured": 1000 + i % 500,
                    "amount_refunded": 0,
                    "customer": f"cus_bench_{i % 200}",
                    "payment_intent": f"pi_bench_{i}",
                    "created": int(time.time()),
                    "metadata": {},
                    "payment_method_details": {
                        "type": "card",
                        "card": {"brand": "visa", "last4": "4242"},
                    },
                }
            },
        }
    )


def _send_python(port: int, signed: list[tuple[str, str, str]], concurrency: int) -> dict[int, int]:
    """POST every request from ``concurrency`` Python threads; count the answers by status."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(chunk: list[tuple[str, str, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path, header, body in chunk:
            try:
                conn.request(
                    "POST",
                    path,
                    body=body,
                    headers={"Content-Type": "application/json", "Stripe-Signature": header},
                )
                resp = conn.getresponse()
                resp.read()
                code = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                code = 0
            with lock:
                statuses[code] = statuses.get(code, 0) + 1

    threads = [
        threading.Thread(target=send, args=(signed[i::concurrency],)) for i in range(concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _send_wrk(
    port: int, signed: list[tuple[str, str, str]], connections: int, seconds: int, tmp: str
) -> tuple[dict[int, int], dict[str, Any]]:
    """POST distinct requests with wrk (one thread) for ``seconds``; statuses, wrk's figures."""
    requests_file = Path(tmp) / "requests.tsv"
    requests_file.write_text("".join(f"{p}\t{h}\t{b}\n" for p, h, b in signed))
    out = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            f"http://127.0.0.1:{port}",
            "--",
            str(requests_file),
            "1",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    figures: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    return {int(k): v for k, v in figures.pop("statuses").items()}, figures


DJSTRIPE_SETTINGS = """
import stripe
SECRET_KEY = "bench"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "djstripe"]
MIDDLEWARE = []
ROOT_URLCONF = "bench_urls"
DATABASES = {"default": %(db)r}
USE_TZ = True
STRIPE_LIVE_MODE = False
STRIPE_TEST_SECRET_KEY = %(key)r
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
stripe.api_base = %(url)r
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

DJSTRIPE_URLS = """
from django.urls import include, path
urlpatterns = [path("stripe/", include("djstripe.urls", namespace="djstripe"))]
"""

DJSTRIPE_WSGI = """
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

DJSTRIPE_SETUP = """
import json, sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from djstripe.models import Event, WebhookEndpoint, WebhookEventTrigger
WebhookEventTrigger.objects.all().delete()
Event.objects.all().delete()
WebhookEndpoint.objects.all().delete()
endpoint = WebhookEndpoint.objects.create(
    id="we_bench", livemode=False, secret=sys.argv[1], url="http://127.0.0.1/bench",
    enabled_events=["*"], api_version="2024-06-20", status="enabled",
    djstripe_validation_method="verify_signature",
)
print(json.dumps({"path": f"/stripe/webhook/{endpoint.djstripe_uuid}/"}))
"""

DJSTRIPE_COUNT = """
import json, django
django.setup()
from djstripe.models import Charge, Event, WebhookEventTrigger
print(json.dumps({"triggers": WebhookEventTrigger.objects.count(),
                  "processed": WebhookEventTrigger.objects.filter(processed=True).count(),
                  "events": Event.objects.count(), "charges": Charge.objects.count()}))
"""


def _stripe_event(i: int, run: int, charge: dict[str, Any]) -> str:
    """A ``charge.succeeded`` event carrying a charge that exists in localstripe."""
    return json.dumps(
        {
            "id": f"evt_bench_{run}_{i}",
            "object": "event",
            "api_version": "2024-06-20",
            "type": "charge.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": charge},
        }
    )


def _sign(path: str, bodies: list[str]) -> list[tuple[str, str, str]]:
    return [(path, stripe.WebhookSignature.generate_signature_header(b, SECRET), b) for b in bodies]


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start") from None
            time.sleep(0.2)


def _commit_loop(execute: Any, commit: Any, seconds: float) -> float:
    """Single-row INSERT + COMMIT, one after the other, for ``seconds``: commits/s."""
    n = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        execute(n)
        commit()
        n += 1
    return n / elapsed


def disk_commit_rates(database_url: str | None, data_dir: str, seconds: float) -> dict[str, Any]:
    """The durable-commit rate of the disk under the database, measured now."""
    if database_url:
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("data_directory", "wal_sync_method", "fsync", "synchronous_commit")
            }
        probe_dir = tempfile.mkdtemp(dir=Path(settings["data_directory"]).parent.parent)
        try:
            binary = shutil.which("pg_test_fsync") or next(
                iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_test_fsync"))), None
            )
            if binary is None:
                raise SystemExit("pg_test_fsync not found (Debian: postgresql-15 ships it)")
            out = subprocess.run(
                [str(binary), "-s", str(max(1, round(seconds))), "-f", f"{probe_dir}/probe"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        finally:
            shutil.rmtree(probe_dir, ignore_errors=True)
        # The first section is "one 8kB write": one WAL flush per commit.
        method = settings["wal_sync_method"]
        match = re.search(rf"^\s+{re.escape(method)}\s+([\d.]+) ops/sec", out, re.M)
        fsync_rate = float(match.group(1)) if match else 0.0
        with psycopg.connect(database_url) as conn:
            conn.execute("CREATE TEMP TABLE bench_commit (n integer)")
            conn.commit()
            loop_rate = _commit_loop(
                lambda n: conn.execute("INSERT INTO bench_commit VALUES (%s)", (n,)),
                conn.commit,
                seconds,
            )
        return {
            "engine": "postgresql",
            **settings,
            "pg_test_fsync_ops_per_second": round(fsync_rate),
            "insert_commit_loop_per_second": round(loop_rate),
            "limit_commits_per_second": round(fsync_rate),
        }
    rates: dict[str, Any] = {"engine": "sqlite"}
    for sync in ("FULL", "NORMAL"):
        path = Path(data_dir) / f"commit-probe-{sync}.sqlite3"
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={sync}")
            db.execute("CREATE TABLE t (n integer)")
            rates[f"insert_commit_loop_per_second_wal_{sync.lower()}"] = round(
                _commit_loop(
                    lambda n, db=db: (
                        db.execute("BEGIN IMMEDIATE"),
                        db.execute("INSERT INTO t VALUES (?)", (n,)),
                    ),
                    lambda db=db: db.execute("COMMIT"),
                    seconds,
                )
            )
        finally:
            db.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    rates["limit_commits_per_second"] = rates["insert_commit_loop_per_second_wal_full"]
    return rates


def run_djstripe(
    args: argparse.Namespace,
    bodies: list[str],
    localstripe: str,
    database_url: str | None,
    tmp: str,
) -> dict[str, Any]:
    """The same events, sent the same way, to dj-stripe's webhook endpoint."""
    import dj_database_url

    sys.path.insert(0, str(ROOT / "bench"))
    from stripe_backfill import KEY, ensure_djstripe_venv

    python = ensure_djstripe_venv()
    if not (python.parent / "granian").exists():
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "psycopg[binary]==3.3.9", "granian==2.8.7"],
            check=True,
        )
    project = Path(tmp) / "djstripe_project"
    project.mkdir()
    if database_url:
        db = dict(dj_database_url.parse(database_url + "_djstripe"))
    else:
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(project / "db.sqlite3")}
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    db = {
        k: v
        for k, v in db.items()
        if k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    }
    (project / "bench_settings.py").write_text(
        DJSTRIPE_SETTINGS % {"db": db, "key": KEY, "url": localstripe}
    )
    (project / "bench_urls.py").write_text(DJSTRIPE_URLS)
    (project / "bench_wsgi.py").write_text(DJSTRIPE_WSGI)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLINGDESK_", "DJANGO_"))}
    env.pop("PYTHONPATH", None)
    env |= {"DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": str(project)}
    run = dict(env=env, cwd=project, capture_output=True, text=True, check=True)
    setup = subprocess.run([str(python), "-c", DJSTRIPE_SETUP, SECRET], **run)  # type: ignore[call-overload]
    path = json.loads(setup.stdout.strip().splitlines()[-1])["path"]
    port = 19000 + os.getpid() % 1000
    server = subprocess.Popen(
        [
            str(python.parent / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--blocking-threads",
            str(args.threads),
            "--backpressure",
            "512",
            "--log-level",
            "warning",
            "bench_wsgi:application",
        ],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, server)
        time.sleep(1)
        signed = _sign(path, bodies)
        if args.client == "wrk":
            statuses, figures = _send_wrk(port, signed, args.concurrency, args.duration, tmp)
            seconds = figures.pop("duration_us") / 1e6
        else:
            started = time.perf_counter()
            statuses, figures = _send_python(port, signed, args.concurrency), {}
            seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    counts = json.loads(
        subprocess.run([str(python), "-c", DJSTRIPE_COUNT], **run).stdout.strip().splitlines()[-1]  # type: ignore[call-overload]
    )
    return {
        "statuses": statuses,
        **figures,
        "seconds": round(seconds, 2),
        "events_per_second": round(statuses.get(200, 0) / seconds, 1),
        **counts,
    }


def seed_charges(localstripe: str, customers: int, charges: int) -> list[dict[str, Any]]:
    """Charges created in localstripe (the events carry them; dj-stripe re-fetches them)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from stripe_backfill import KEY, seed

    seed(localstripe, customers, charges)
    client = stripe.StripeClient(KEY, base_addresses={"api": localstripe})
    listed = client.v1.charges.list(params={"limit": 100})
    return [c.to_dict() for c in listed.auto_paging_iter()]


def _count(*statuses: str) -> int:
    from billingdesk.gateways.models import WebhookEvent

    return WebhookEvent.objects.filter(status__in=statuses).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        default=60000,
        help="events to sign (python: all are sent; wrk: more than --duration can take)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of sending (wrk)")
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk",
        help="load generator: wrk (default; apt-get install -y wrk) or Python threads",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="connections (wrk) or client threads"
    )
    parser.add_argument("--workers", type=int, default=2, help="web server worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per web server worker")
    parser.add_argument("--task-workers", type=int, default=1, help="billingdesk worker procs")
    parser.add_argument("--processing-timeout", type=float, default=300)
    parser.add_argument(
        "--process-after",
        action="store_true",
        help="start the task workers only once intake is done (intake measured alone)",
    )
    parser.add_argument(
        "--with-documents",
        action="store_true",
        help="also issue a receipt for every payment, as a live account would",
    )
    parser.add_argument(
        "--skip-djstripe", action="store_true", help="no dj-stripe comparison (no localstripe)"
    )
    parser.add_argument("--skip-disk", action="store_true", help="no disk commit-rate probe")
    parser.add_argument(
        "--customers",
        type=int,
        default=20,
        help="localstripe customers the events' charges belong to",
    )
    parser.add_argument("--charges", type=int, default=5, help="charges per customer")
    parser.add_argument("--disk-seconds", type=float, default=3, help="seconds per disk probe")
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed: `apt-get install -y wrk` (a benchmark-only tool), "
            "or run with --client python (slower: the client then competes for the CPU)."
        )
    documents_from = "2000-01-01T00:00:00Z" if args.with_documents else "2999-01-01T00:00:00Z"

    database_url = os.environ.get("DATABASE_URL")
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        localstripe_url = ""
        stripe_charges: list[dict[str, Any]] = []
        if not args.skip_djstripe:
            sys.path.insert(0, str(ROOT / "src"))
            from billingdesk.gateways.stripe.tests.localstripe_server import start_localstripe
            from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

            ls_dir = Path(tmp) / "localstripe"
            ls_dir.mkdir()
            ls_proc, ls_url = start_localstripe(
                ls_dir, Path(__file__).resolve().with_name("localstripe_fast.py")
            )
            stack.callback(ls_proc.wait, timeout=10)
            stack.callback(ls_proc.terminate)
            stripe_charges = seed_charges(ls_url, args.customers, args.charges)
            # The test suite's proxy: adds the /v1/account answers dj-stripe asks for.
            stripe_proxy = stack.enter_context(StripeFake(upstream=ls_url))
            localstripe_url = stripe_proxy.url
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "billingdesk.config.settings",
            "BILLINGDESK_DATA_DIR": tmp,
            "BILLINGDESK_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
        subprocess.run([PYTHON, "-m", "billingdesk", "migrate", "-v", "0"], env=env, check=True)
        # This process reads the processed count from the same database (cheaply, without
        # starting a Python process per poll, which would take CPU from the worker).
        os.environ.update(env)
        sys.path.insert(0, str(ROOT / "src"))
        import django
        from django.db import connections

        django.setup()
        from billingdesk.gateways.models import GatewayAccount

        GatewayAccount.objects.all().delete()
        account = GatewayAccount.objects.create(
            kind="stripe",
            name="bench",
            credentials={"secret_key": "sk_test_x"},
            webhook_secret=SECRET,
            # Webhook processing alone: no receipts for these payments (invoice rendering
            # has its own benchmark, bench/invoice_pdf.py) unless --with-documents.
            documents_from=documents_from,
        )
        account_path = account.webhook_path
        connections.close_all()
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "billingdesk",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers: list[subprocess.Popen[bytes]] = []

        def start_workers() -> None:
            workers.extend(
                subprocess.Popen(
                    [PYTHON, "-m", "billingdesk", "worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(args.task_workers)
            )

        if not args.process_after:
            start_workers()
        wrk_figures: dict[str, Any] = {}
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.2)
            time.sleep(1)  # let the workers (and task workers) finish importing
            if stripe_charges:
                bodies = [
                    _stripe_event(i, port, stripe_charges[i % len(stripe_charges)])
                    for i in range(args.events)
                ]
            else:
                bodies = [_event(i, port) for i in range(args.events)]
            signed = _sign(account_path, bodies)
            started = time.perf_counter()
            if args.client == "wrk":
                statuses, wrk_figures = _send_wrk(
                    port, signed, args.concurrency, args.duration, tmp
                )
                intake_seconds = wrk_figures.pop("duration_us") / 1e6
            else:
                statuses = _send_python(port, signed, args.concurrency)
                intake_seconds = time.perf_counter() - started
            time.sleep(0.5)  # requests in flight when wrk stopped are still stored
            stored = _count("pending", "processed", "failed")
            if args.process_after:
                start_workers()
                started = time.perf_counter()  # processing timed on its own
            processed = 0
            while time.perf_counter() - started < args.processing_timeout:
                processed = _count("processed")
                if processed >= stored:
                    break
                time.sleep(0.1)
            processing_seconds = time.perf_counter() - started
            connections.close_all()
        finally:
            server.terminate()
            for w in workers:
                w.terminate()
            server.wait(timeout=20)
            for w in workers:
                w.wait(timeout=20)
        djstripe = {}
        if not args.skip_djstripe:
            djstripe = run_djstripe(args, bodies, localstripe_url, database_url, tmp)
            # Every Stripe API call dj-stripe made while processing (the proxy counts them).
            djstripe["api_calls"] = len(stripe_proxy.requests)
            if djstripe.get("triggers"):
                djstripe["api_calls_per_event"] = round(
                    djstripe["api_calls"] / djstripe["triggers"], 1
                )
        disk = {} if args.skip_disk else disk_commit_rates(database_url, tmp, args.disk_seconds)
    intake_rate = statuses.get(200, 0) / intake_seconds
    ratios: dict[str, Any] = {}
    if djstripe.get("events_per_second"):
        ratios["billingdesk_intake_over_djstripe"] = round(
            intake_rate / djstripe["events_per_second"], 1
        )
    if disk.get("limit_commits_per_second"):
        ratios["billingdesk_intake_over_disk_commits"] = round(
            intake_rate / disk["limit_commits_per_second"], 2
        )
    result: dict[str, Any] = {
        "events_signed": args.events,
        "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
        "client": args.client,
        "web_workers": args.workers,
        "web_threads": args.threads,
        "connections": args.concurrency,
        "task_workers": args.task_workers,
        "statuses": statuses,
        **wrk_figures,
        "intake_seconds": round(intake_seconds, 2),
        "intake_events_per_second": round(statuses.get(200, 0) / intake_seconds),
        "stored": stored,
        "processed": processed,
        "processing_started": "after intake" if args.process_after else "with intake",
        "processing_seconds": round(processing_seconds, 2),
        "processing_events_per_second": round(processed / processing_seconds),
        "djstripe": djstripe,
        "disk": disk,
        "ratios": ratios,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))
    print(f"billingdesk intake: {intake_rate:,.0f} events/s")
    if djstripe:
        print(f"dj-stripe endpoint: {djstripe['events_per_second']:,.1f} events/s")
        print(f"ratio billingdesk / dj-stripe: {ratios.get('billingdesk_intake_over_djstripe')}x")
    if disk:
        limit, engine = disk["limit_commits_per_second"], disk["engine"]
        print(f"disk durable commits: {limit:,} commits/s ({engine})")
        over_disk = ratios.get("billingdesk_intake_over_disk_commits")
        print(f"ratio billingdesk intake / disk commits: {over_disk}")


if __name__ == "__main__":
    main()
