"""Server time of the agent panel for random persons: p50 / p95 / p99.

    DATABASE_URL=sqlite:///var/bench/panel.sqlite3 .venv/bin/python bench/panel.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_bench .venv/bin/python bench/panel.py

Run bench/generate.py on the same DATABASE_URL first. For ``--requests`` random persons
(after ``--warmup`` others) it times, in one process:

* view: the panel view called directly for a signed-in agent: ``panel_data`` (the queries),
  the actions offered on each row, and writing the HTML; what the goal is about;
* stack: the same page through Django's whole request stack (test Client: middleware,
  session and user lookups, CSP headers), as a web worker would serve it;
* search: ``person_search`` for a random person's email and for a random charge id;
* parts (last pass, CPU p50/p99): where the view's time goes — reading the data
  (``panel_data``), the actions offered on every row, and writing the HTML.

Each is reported as wall-clock time and as this process's CPU time: on a shared machine the
CPU time is the steadier figure (with PostgreSQL it leaves out the server's own work).

Prints the figures and a Markdown table row per measure.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def timed(action: Callable[[int], object], ids: list[int]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds (this process) of each call."""
    wall, cpu = [], []
    for value in ids:
        started, started_cpu = time.perf_counter(), time.process_time()
        action(value)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--passes", type=int, default=2, help="measure this many times, report the last"
    )
    parser.add_argument(
        "--measures",
        default="view,stack,search",
        help="comma-separated: view, stack, search (default: all)",
    )
    args = parser.parse_args()
    wanted = set(args.measures.split(","))
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the benchmark database bench/generate.py loaded.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    os.environ.setdefault("BILLINGDESK_DATA_DIR", str(ROOT / "var" / "bench"))

    import django

    django.setup()
    from django.core.management import call_command

    load_at_start = os.getloadavg()[:3]
    call_command("migrate", verbosity=0)  # the code may have moved on since the data was loaded
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext
    from generate import FIRST, LAST  # bench/ is on the path when run as a script

    from billingdesk.accounts.models import AgentProfile, Role
    from billingdesk.billing.models import Charge, Person
    from billingdesk.panel import views
    from billingdesk.panel.offers import offer_actions
    from billingdesk.panel.render import panel_page
    from billingdesk.panel.selectors import PANEL_ROWS, panel_data, person_search

    user, _ = User.objects.get_or_create(username="bench-agent", defaults={"first_name": "Bench"})
    AgentProfile.objects.update_or_create(user=user, defaults={"role": Role.AGENT})
    top = Person.objects.order_by("-id").values_list("id", flat=True).first()
    charges = Charge.objects.order_by("-id").values_list("id", flat=True).first()
    if not top or not charges:
        sys.exit("The database has no persons: run bench/generate.py first.")
    rng = random.Random(args.seed)  # noqa: S311 - picks benchmark rows, not secrets
    factory = RequestFactory()

    def view(person_id: int) -> None:
        request = factory.get(f"/panel/person/{person_id}/")
        request.user = user
        response = views.panel(request, person_id)
        assert response.status_code == 200, response.status_code

    client = Client()
    client.force_login(user)

    def stack(person_id: int) -> None:
        response = client.get(f"/panel/person/{person_id}/")
        assert response.status_code == 200, response.status_code

    def search_email(person_id: int) -> None:
        assert person_search(f"user{person_id}@example.com").hits

    def search_name(person_id: int) -> None:
        # The words of the name in another order, accents and case aside, one cut short.
        last, first = LAST[person_id % 19].upper(), FIRST[person_id % 20][:3]
        assert person_search(f"{last} {first} {person_id}").hits

    def search_charge(charge_id: int) -> None:
        assert person_search(f"ch_{charge_id:010d}").hits

    parts: dict[str, list[float]] = {"data": [], "actions": [], "html": []}

    def view_in_parts(person_id: int) -> None:
        """What ``views.panel`` does, step by step, timing each (CPU)."""
        request = factory.get(f"/panel/person/{person_id}/")
        request.user = user
        started = time.process_time()
        data = panel_data(person_id, limit=PANEL_ROWS, documents=True)
        after_data = time.process_time()
        role = offer_actions(request, data)
        after_actions = time.process_time()
        panel_page(request, data, role=role, back=views._here(request))
        done = time.process_time()
        parts["data"].append((after_data - started) * 1000)
        parts["actions"].append((after_actions - after_data) * 1000)
        parts["html"].append((done - after_actions) * 1000)

    def persons(n: int) -> list[int]:
        return [rng.randint(1, top) for _ in range(n)]

    def charge_ids(n: int) -> list[int]:
        return [rng.randint(1, charges) for _ in range(n)]

    with CaptureQueriesContext(connection) as ctx:
        view(1)  # person 1 owns the heaviest customer
    print(f"{connection.vendor}: {top:,} persons, {charges:,} charges")
    print(f"queries per panel (heaviest person): {len(ctx.captured_queries)}")
    results: dict[str, dict[str, float]] = {}
    for run in range(1, args.passes + 1):
        # The first pass also warms the database's and the OS's caches, as a running server's
        # would be; only the last pass is reported.
        for name, action, ids in (
            ("view", view, persons),
            ("stack", stack, persons),
            ("search by email", search_email, persons),
            ("search by charge id", search_charge, charge_ids),
            ("search by name", search_name, persons),
        ):
            if name.split()[0] not in wanted:
                continue
            timed(action, ids(args.warmup))
            wall, cpu = timed(action, ids(args.requests))
            results[name] = r = percentiles(wall)
            results[f"{name} (CPU)"] = c = percentiles(cpu)
            print(
                f"pass {run} {name:<20} p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  "
                f"p99 {r['p99']:6.2f} ms  max {r['max']:7.2f} ms | CPU p50 {c['p50']:6.2f} "
                f"p95 {c['p95']:6.2f} p99 {c['p99']:6.2f} ms  (n={args.requests})",
                flush=True,
            )
    timed(view_in_parts, persons(args.warmup))
    for values in parts.values():
        values.clear()
    timed(view_in_parts, persons(args.requests))
    print(
        "view parts, CPU: "
        + ", ".join(
            f"{name} p50 {percentiles(values)['p50']:.2f} p99 {percentiles(values)['p99']:.2f} ms"
            for name, values in parts.items()
        )
    )
    print()
    print(f"load average at the start: {load_at_start}, at the end: {os.getloadavg()[:3]}")
    print("| database | measure | p50 | p95 | p99 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {connection.vendor} | {name} | {r['p50']:.2f} ms | {r['p95']:.2f} ms "
            f"| {r['p99']:.2f} ms |"
        )


if __name__ == "__main__":
    main()
