"""The console's forgiving search at scale: p50 / p99 over real HTTP and in-process.

    export DATABASE_URL=sqlite:///var/bench/search-1m.sqlite3       # or, for PostgreSQL:
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_search
    .venv/bin/python bench/search.py --persons 1000000

One command: unless the database already holds that many persons (or ``--no-seed``), it is
loaded first with ``bench/generate.py --search-only`` (persons, customers in two accounts and
their search words, in bulk: ``executemany`` / ``COPY``, indexes built after). Then:

* **http**: ``billingdesk serve`` is started on that database and a signed-in agent's
  ``GET /console/?q=…`` is sent ``--requests`` times per kind of query over one keep-alive
  connection; the time is the client's, from the request to the whole page read (session and
  user lookups, middleware, the search, the template). Each answer must be a 200 that links
  the person looked for.
* **search**: ``person_search`` alone, in this process (wall clock and CPU), for the same
  kinds of query.

The kinds of query are what agents type: a name in another order, upper-cased, without its
accents and with a word cut short; a name as written, with accents; a partial name; an
e-mail's local part; a partial e-mail (local part and the start of the domain); a
national-format phone number; and the worst case, a common first and last name shared by
~0.26 % of the persons (counted up to ``MAX_MATCHES``).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from generate import FIRST, LAST, generate  # noqa: E402 - bench/ put on the path above
from http_panel import BILLINGDESK, free_port, sign_in, wait_ready  # noqa: E402
from panel import percentiles  # noqa: E402


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# What an agent types for person ``p`` (its name is "<FIRST> <LAST> <p>", its e-mail
# user<p>@example.com, its phone +1 415 <p as 7 digits>), and whether it must be the only
# kind of answer the page needs to hold (the common name matches thousands).
QUERIES: dict[str, Callable[[int], str]] = {
    "name, any order, no accents": lambda p: (
        f"{_plain(LAST[p % 19]).upper()} {FIRST[p % 20][:3]} {p}"
    ),
    "name with accents": lambda p: f"{FIRST[p % 20]} {LAST[p % 19]} {p}",
    "partial name": lambda p: f"{LAST[p % 19][:3].lower()} {p}",
    "email local part": lambda p: f"user{p}",
    "partial email": lambda p: f"user{p}@examp",
    "phone, national format": lambda p: f"(415) {p:07d}"[:9] + "-" + f"{p:07d}"[3:],
    "common name (~2,600 persons)": lambda p: f"{_plain(FIRST[p % 20]).lower()} {LAST[p % 19]}",
}
COMMON = "common name (~2,600 persons)"


def http_pass(
    port: int, session: str, persons: list[int], make: Callable[[int], str], check: bool
) -> list[float]:
    from urllib.parse import urlencode

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={session}", "Connection": "keep-alive"}
    took = []
    for p in persons:
        path = "/console/?" + urlencode({"q": make(p)})
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        took.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            sys.exit(f"{path}: HTTP {response.status}")
        if check and f"/person/{p}/".encode() not in body:
            sys.exit(f"{path}: person {p} is not among the results")
    conn.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="per kind of query")
    parser.add_argument("--warmup", type=int, default=50, help="per kind, not reported")
    parser.add_argument("--no-seed", action="store_true", help="use the data as it is")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a benchmark database (see the docstring).")
    data_dir = Path(os.environ.setdefault("BILLINGDESK_DATA_DIR", str(ROOT / "var" / "bench")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    marker = data_dir / f"search-seeded-{args.persons}-{_database_label()}"
    if not args.no_seed and not marker.exists():
        generate(args.persons, search_only=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        marker.touch()

    import django

    django.setup()
    from django.db import connection

    from billingdesk.billing.models import Person
    from billingdesk.panel.selectors import person_search

    top = Person.objects.order_by("-id").values_list("id", flat=True).first()
    if not top:
        sys.exit("The database has no persons.")
    vendor = connection.vendor
    connection.close()
    rng = random.Random(args.seed)  # noqa: S311 - picks benchmark rows, not secrets
    load_at_start = os.getloadavg()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    session, _ = sign_in(env)
    port = free_port()
    log = (data_dir / "search-serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own command line
        [*BILLINGDESK, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    rows: list[str] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", server)
        for name, make in QUERIES.items():
            check = name != COMMON
            http_pass(port, session, [rng.randint(1, top) for _ in range(args.warmup)], make, check)
            took = http_pass(
                port, session, [rng.randint(1, top) for _ in range(args.requests)], make, check
            )
            r = percentiles(took)
            print(
                f"http   {name:<30} p50 {r['p50']:6.2f}  p95 {r['p95']:6.2f}  "
                f"p99 {r['p99']:6.2f}  max {r['max']:7.2f} ms",
                flush=True,
            )
            rows.append(f"| {vendor} | HTTP | {name} | {r['p50']:.2f} | {r['p99']:.2f} |")
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, make in QUERIES.items():
        for n, report in ((args.warmup, False), (args.requests, True)):
            wall, cpu = [], []
            for p in (rng.randint(1, top) for _ in range(n)):
                started, started_cpu = time.perf_counter(), time.process_time()
                result = person_search(make(p))
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
                if name != COMMON and p not in {hit.person.pk for hit in result.hits}:
                    sys.exit(f"{make(p)!r}: person {p} not found")
            if report:
                r, c = percentiles(wall), percentiles(cpu)
                print(
                    f"search {name:<30} p50 {r['p50']:6.2f}  p99 {r['p99']:6.2f} ms | "
                    f"CPU p50 {c['p50']:6.2f}  p99 {c['p99']:6.2f} ms",
                    flush=True,
                )
                rows.append(
                    f"| {vendor} | person_search | {name} | {r['p50']:.2f} | {r['p99']:.2f} "
                    f"| {c['p50']:.2f} / {c['p99']:.2f} |"
                )
    print()
    print(f"{vendor}: {top:,} persons; {os.cpu_count()} CPUs")
    print(f"load average at the start: {load_at_start}, at the end: {os.getloadavg()}")
    print("| database | path | query | p50 ms | p99 ms | CPU p50 / p99 ms |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    print("\n".join(rows))


def _database_label() -> str:
    url = os.environ["DATABASE_URL"]
    return "pg" if url.startswith("postgres") else "sqlite"


if __name__ == "__main__":
    main()
