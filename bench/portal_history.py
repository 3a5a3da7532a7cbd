"""The customer's history page (``GET /billing/``) for random persons: p50 / p95 / p99.

    export DATABASE_URL=sqlite:///var/bench/history.sqlite3   # or postgres://…/bd_bench
    .venv/bin/python bench/generate.py --persons 100000       # 1 M charges (one command)
    .venv/bin/python bench/portal_history.py --requests 500

Run ``bench/generate.py`` on the same ``DATABASE_URL`` (and ``BILLINGDESK_DATA_DIR``) first.
Two measures, each over ``--requests`` random persons after ``--warmup`` others, and then
the heaviest person (person 1: a customer with 2,000 charges, their refunds and invoices):

* **http**: a real ``billingdesk serve`` (its defaults, 2 workers x 2 threads) on a free
  port; for each person this process opens the person's billing link (``/billing/link/…``,
  which starts the session) and then times ``GET /billing/`` over a keep-alive connection,
  one request at a time, as the customer's browser would: the whole HTTP path (socket,
  server, middleware, session, the person's brand, the history query, the template);
* **stack**: the same page through Django's whole request stack in this process (test
  Client), which is the server's own time without the socket; and that as this process's
  CPU time (steadier on a shared machine; with PostgreSQL it leaves out the database's work).

Prints the figures and a Markdown row per measure.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants and options

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from http_panel import free_port, wait_ready  # noqa: E402  (bench/ on the path)
from panel import percentiles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measures", default="http,stack")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the database bench/generate.py filled.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from billingdesk.billing.models import Charge, Person
    from billingdesk.portal.services import portal_link_create

    setup_test_environment()  # the test Client's template-rendered signal and ALLOWED_HOSTS
    settings.ALLOWED_HOSTS = ["*"]
    top = Person.objects.order_by("-id").values_list("id", flat=True).first()
    charges = Charge.objects.count()
    if not top:
        sys.exit("The database has no persons: run bench/generate.py first.")
    rng = random.Random(args.seed)  # noqa: S311 - picks benchmark rows, not secrets
    wanted = set(args.measures.split(","))
    links: dict[int, str] = {}

    def link(person_id: int) -> str:
        if person_id not in links:
            links[person_id] = urlsplit(
                portal_link_create(person=Person.objects.get(pk=person_id))
            ).path
        return links[person_id]

    def persons(n: int) -> list[int]:
        return [rng.randint(1, top) for _ in range(n)]

    results: list[tuple[str, dict[str, float], float]] = []

    def report(name: str, samples: list[float], heavy: float) -> None:
        r = percentiles(samples)
        results.append((name, r, heavy))
        print(f"{name:<6} p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  p99 {r['p99']:6.2f} ms"
              f"  max {r['max']:7.2f} ms  (n={len(samples)}); heaviest person {heavy:.1f} ms",
              flush=True)  # fmt: skip

    client = Client()

    cpu: list[float] = []

    def stack(person_id: int) -> float:
        assert client.get(link(person_id)).status_code == 302
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get("/billing/")
        elapsed = (time.perf_counter() - started) * 1000
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, response.status_code
        return elapsed

    stack(1)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/billing/")  # the page alone, its session open and its brand's look kept
    print(f"{connection.vendor}: {top:,} persons, {charges:,} charges")
    print(f"queries per history page (heaviest person): {len(ctx.captured_queries)}")

    def run(measure: Callable[[int], float]) -> tuple[list[float], float]:
        for person_id in persons(args.warmup):
            measure(person_id)
        samples = [measure(person_id) for person_id in persons(args.requests)]
        heavy = sorted(measure(1) for _ in range(5))[2]
        return samples, heavy

    def heavy_cpu(samples: list[float]) -> float:
        return sorted(samples[-5:])[2]  # the heaviest person's five runs come last

    if "stack" in wanted:
        samples, heavy = run(stack)
        report("stack", samples, heavy)
        # This process's CPU time for the same requests: steadier on a shared machine.
        report("stack CPU", cpu[args.warmup + 1 : args.warmup + 1 + args.requests], heavy_cpu(cpu))
    if "http" in wanted:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                          env.get("PYTHONPATH")]))  # fmt: skip
        port = free_port()
        data_dir = Path(os.environ.get("BILLINGDESK_DATA_DIR", ROOT / "var" / "bench"))
        data_dir.mkdir(parents=True, exist_ok=True)
        log = (data_dir / "portal-serve.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "billingdesk", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", server)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

            def over_http(person_id: int) -> float:
                conn.request("GET", link(person_id), headers={"Host": "127.0.0.1"})
                opened = conn.getresponse()
                body = opened.read()
                assert opened.status == 302, (opened.status, body[:2000])
                cookie = opened.getheader("Set-Cookie", "").split(";", 1)[0]
                started = time.perf_counter()
                conn.request("GET", "/billing/", headers={"Cookie": cookie, "Host": "127.0.0.1"})
                page = conn.getresponse()
                page.read()
                elapsed = (time.perf_counter() - started) * 1000
                assert page.status == 200, page.status
                return elapsed

            report("http", *run(over_http))
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()}")
    print("| database | persons / charges | measure | p50 | p95 | p99 | heaviest person |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name, r, heavy in results:
        print(f"| {database} | {top:,} / {charges:,} | {name} | {r['p50']:.2f} | {r['p95']:.2f} "
              f"| {r['p99']:.2f} | {heavy:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
