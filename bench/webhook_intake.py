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
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
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
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed: `apt-get install -y wrk` (a benchmark-only tool), "
            "or run with --client python (slower: the client then competes for the CPU)."
        )
    documents_from = "2000-01-01T00:00:00Z" if args.with_documents else "2999-01-01T00:00:00Z"

    with tempfile.TemporaryDirectory() as tmp:
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
            bodies = [_event(i, port) for i in range(args.events)]
            signed = [
                (account_path, stripe.WebhookSignature.generate_signature_header(b, SECRET), b)
                for b in bodies
            ]
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
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
