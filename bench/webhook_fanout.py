"""Outgoing-webhook fan-out: deliveries per second from N worker processes to a local
receiver, through the real path (events stored with their deliveries and jobs in one
transaction, on the database queue, ``billingdesk worker --batch`` sending signed requests
over HTTP, each attempt logged).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_bench   # or sqlite:///…
    .venv/bin/python bench/webhook_fanout.py --events 2000 --workers 2

The database must be a separate benchmark database (DATABASE_URL is required); it is
migrated, its webhook endpoints are replaced by the benchmark's one, and its task queue is
emptied first. The receiver answers ``200`` at once (a threaded HTTP server in this process);
each event is about its own object, so no delivery waits for another.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


class Handler(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Handler.lock:
            Handler.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is required (a benchmark database)")
    os.environ["BILLINGDESK_OUTBOUND_ALLOW_PRIVATE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from billingdesk.api.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
    from billingdesk.api.webhooks.services import Event, endpoint_create, events_emit

    call_command("migrate", verbosity=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.all().delete()
    WebhookMessage.objects.all().delete()
    DBTaskResult.objects.all().delete()
    endpoint_create(url=f"http://127.0.0.1:{server.server_address[1]}/hook", event_types=[])
    start = time.perf_counter()
    with transaction.atomic():  # as the mirror's receiver does for a batch: one call
        events_emit(
            [
                Event("charge.updated", {"id": n, "amount": 1000 + n, "currency": "EUR"},
                      f"charge:{n}")
                for n in range(args.events)
            ]
        )  # fmt: skip
    stored = time.perf_counter() - start
    connection.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, str(ROOT / "manage.py"), "worker", "--batch"]
    start = time.perf_counter()
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.wait()
    seconds = time.perf_counter() - start
    done = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED).count()
    server.shutdown()
    print(f"{connection.vendor}: {args.events} events stored in {stored:.1f} s "
          f"({args.events / stored:,.0f}/s)")  # fmt: skip
    print(
        f"{done} delivered ({Handler.received} received) by {args.workers} workers in "
        f"{seconds:.1f} s: {done / seconds:,.0f} deliveries/s (worker start-up included)"
    )


if __name__ == "__main__":
    main()
