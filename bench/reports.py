"""Server time of the finance reports on a large mirror: p50 / p95 / p99.

    DATABASE_URL=sqlite:///var/bench/panel.sqlite3 .venv/bin/python bench/reports.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_bench .venv/bin/python bench/reports.py

Run bench/generate.py on the same DATABASE_URL first (it loads charges, refunds and disputes
without the mirror's write path), then this command rebuilds the revenue rollup once
(``revenue_rollup_rebuild``, timed: what ``billingdesk reports_rebuild`` does) and times, for
``--requests`` random periods, each on a fresh database connection (nothing cached in the
process or the connection):

* revenue year: ``revenue_report`` over a random 365-day period, per month (currency only,
  then split by account, then by product);
* revenue year converted: the same per month, converted to EUR at stored daily rates;
* revenue quarter by day: a random 91-day period, per day;
* MRR: ``mrr_report`` over every subscription (the database sums per plan and interval).

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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SPAN = (date(2023, 1, 1), date(2025, 12, 31))  # bench/generate.py spreads charges over these


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-rebuild", action="store_true", help="keep the rollup as it is")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the benchmark database bench/generate.py filled.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    os.environ.setdefault("BILLINGDESK_DATA_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from billingdesk.billing.models import Charge
    from billingdesk.documents.models import ExchangeRate
    from billingdesk.reports.models import RevenueDay
    from billingdesk.reports.rollups import revenue_rollup_rebuild
    from billingdesk.reports.selectors.revenue import revenue_report
    from billingdesk.reports.selectors.subscriptions import mrr_report

    call_command("migrate", verbosity=0)
    charges = Charge.objects.count()
    print(f"{connection.vendor}: {charges:,} charges", flush=True)
    if not args.no_rebuild:
        began = time.perf_counter()
        rows = revenue_rollup_rebuild()
        print(f"rollup rebuilt: {rows:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
    print(f"rollup rows: {RevenueDay.objects.count():,}", flush=True)
    # A daily USD rate for every day of the span (what loading eurofxref-hist.csv gives).
    day, rates = SPAN[0], []
    while day <= SPAN[1]:
        rates.append(ExchangeRate(currency="USD", day=day, per_eur="1.0800", source="bench"))
        day += timedelta(days=1)
    ExchangeRate.objects.bulk_create(rates, ignore_conflicts=True)
    connection.close()

    rng = random.Random(args.seed)  # noqa: S311  (periods to time, not secrets)
    span_days = (SPAN[1] - SPAN[0]).days

    def period(days: int) -> tuple[date, date]:
        start = SPAN[0] + timedelta(days=rng.randrange(0, span_days - days))
        return start, start + timedelta(days=days - 1)

    def year(**kw: object) -> Callable[[], object]:
        def run() -> object:
            start, end = period(365)
            return revenue_report(start=start, end=end, group="month", **kw)  # type: ignore[arg-type]

        return run

    def quarter_by_day() -> object:
        start, end = period(91)
        return revenue_report(start=start, end=end, group="day")

    measures: list[tuple[str, Callable[[], object]]] = [
        ("revenue year, per month", year()),
        ("revenue year, per month and account", year(by="account")),
        ("revenue year, per month and product", year(by="product")),
        ("revenue year, per month, converted to EUR", year(convert_to="EUR")),
        ("revenue quarter, per day", quarter_by_day),
        ("MRR and ARR (every subscription)", lambda: mrr_report()),
    ]
    rows_md = []
    for label, action in measures:
        samples = []
        for _ in range(args.requests):
            connection.close()  # cold: a new connection, nothing prepared or cached
            began = time.perf_counter()
            action()
            samples.append((time.perf_counter() - began) * 1000)
        p = percentiles(samples)
        print(f"{label}: p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f}, p99 {p['p99']:.1f}, "
              f"max {p['max']:.1f}", flush=True)  # fmt: skip
        rows_md.append(
            f"| {label} | {args.requests} | {p['p50']:.1f} | {p['p95']:.1f} | {p['p99']:.1f} |"
        )
    print("\n| measure | requests | p50 ms | p95 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows_md))
    print(f"\nmean of p50s: {statistics.fmean(float(r.split('|')[3]) for r in rows_md):.1f} ms")


if __name__ == "__main__":
    main()
