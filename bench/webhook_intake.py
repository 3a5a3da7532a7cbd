"""Webhook intake benchmark: Stripe-signed events through the real HTTP server.

    .venv/bin/python bench/webhook_intake.py --events 5000 --concurrency 8 --workers 2
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_stripe_bench \
        .venv/bin/python bench/webhook_intake.py

Starts ``billingdesk serve`` (gunicorn) and ``billingdesk worker`` on a fresh database (a
temporary SQLite file unless DATABASE_URL is set), then POSTs distinct ``charge.succeeded``
events signed with ``stripe.WebhookSignature.generate_signature_header`` to the account's
``/webhooks/<uuid>/`` URL from client threads. Intake = signature check + raw event stored +
task enqueued + 2xx; its rate is events / wall time of the sends. Processing (parse + mirror
upsert, in the worker, running at the same time) is timed until every event is processed.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants

from __future__ import annotations

import argparse
import http.client
import json
import os
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


def _django(env: dict[str, str], code: str) -> str:
    return subprocess.run(
        [PYTHON, "-c", "import django; django.setup()\n" + code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
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
        account_path = _django(
            env,
            (
                "from billingdesk.gateways.models import GatewayAccount\n"
                "GatewayAccount.objects.all().delete()\n"
                f"a = GatewayAccount.objects.create(kind='stripe', name='bench', "
                f"credentials={{'secret_key': 'sk_test_x'}}, webhook_secret={SECRET!r}, "
                # Webhook processing alone: no receipts for these payments (invoice rendering
                # has its own benchmark, bench/invoice_pdf.py) unless --with-documents.
                f"documents_from={documents_from!r})\n"
                "print(a.webhook_path)"
            ),
        )
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
            bodies = [_event(i, port) for i in range(args.events)]
            signed = [
                (b, stripe.WebhookSignature.generate_signature_header(b, SECRET)) for b in bodies
            ]
            statuses: dict[int, int] = {}
            lock = threading.Lock()
            chunks = [signed[i :: args.concurrency] for i in range(args.concurrency)]

            def send(chunk: list[tuple[str, str]]) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for body, header in chunk:
                    try:
                        conn.request(
                            "POST",
                            account_path,
                            body=body,
                            headers={
                                "Content-Type": "application/json",
                                "Stripe-Signature": header,
                            },
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

            started = time.perf_counter()
            threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            intake_seconds = time.perf_counter() - started
            if args.process_after:
                start_workers()
                started = time.perf_counter()  # processing timed on its own
            processed = 0
            while time.perf_counter() - started < args.processing_timeout:
                processed = int(
                    _django(
                        env,
                        (
                            "from billingdesk.gateways.models import WebhookEvent\n"
                            "print(WebhookEvent.objects.filter(status='processed').count())"
                        ),
                    )
                )
                if processed >= args.events:
                    break
                time.sleep(0.5)
            processing_seconds = time.perf_counter() - started
        finally:
            server.terminate()
            for w in workers:
                w.terminate()
            server.wait(timeout=20)
            for w in workers:
                w.wait(timeout=20)
    result: dict[str, Any] = {
        "events": args.events,
        "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
        "gunicorn_workers": args.workers,
        "client_threads": args.concurrency,
        "task_workers": args.task_workers,
        "statuses": statuses,
        "intake_seconds": round(intake_seconds, 2),
        "intake_events_per_second": round(args.events / intake_seconds),
        "processed": processed,
        "processing_started": "after intake" if args.process_after else "with intake",
        "processing_seconds": round(processing_seconds, 2),
        "processing_events_per_second": round(processed / processing_seconds),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
