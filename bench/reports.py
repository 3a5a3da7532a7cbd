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
* MRR: ``mrr_report`` over every subscription (the database sums per plan and interval);
* tax quarter: ``tax_summary`` of a random 91-day period, and the UK / Indian return boxes of
  it (``tax_returns``), from the daily tax rollup.

``--documents N`` first adds issued documents until the database holds N (bulk-inserted, spread
over the span: French, British and Indian sellers, domestic / OSS / reverse charge / export /
intra- and inter-state, one credit note in ten) and rebuilds the tax rollup from them (timed:
what ``billingdesk reports_rebuild`` does).

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
    parser.add_argument("--documents", type=int, default=0, help="issued documents to hold")
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
    from billingdesk.reports.selectors.returns import tax_returns
    from billingdesk.reports.selectors.revenue import revenue_report
    from billingdesk.reports.selectors.subscriptions import mrr_report
    from billingdesk.reports.selectors.tax import tax_summary
    from billingdesk.reports.taxdays import tax_days_rebuild

    call_command("migrate", verbosity=0)
    charges = Charge.objects.count()
    print(f"{connection.vendor}: {charges:,} charges", flush=True)
    if not args.no_rebuild:
        began = time.perf_counter()
        rows = revenue_rollup_rebuild()
        print(f"rollup rebuilt: {rows:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
    print(f"rollup rows: {RevenueDay.objects.count():,}", flush=True)
    if args.documents:
        made = documents_fill(args.documents, args.seed)
        print(f"documents: {made:,} added", flush=True)
        began = time.perf_counter()
        rows = tax_days_rebuild()
        print(f"tax rollup rebuilt: {rows:,} rows in {time.perf_counter() - began:.1f} s")
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
    if args.documents:

        def tax_quarter() -> object:
            start, end = period(91)
            return tax_summary(start=start, end=end)

        def returns_quarter() -> object:
            start, end = period(91)
            return tax_returns(start=start, end=end)

        measures += [("tax summary, a quarter", tax_quarter),
                     ("UK + India return boxes, a quarter", returns_quarter)]  # fmt: skip
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


def documents_fill(target: int, seed: int) -> int:
    """Bulk-insert issued documents until there are ``target``; how many were added."""
    from datetime import UTC, datetime

    from django.db import transaction

    from billingdesk.documents.models import (
        Brand,
        Document,
        DocumentSeries,
        LegalEntity,
    )

    have = Document.objects.count()
    if have >= target:
        return 0
    rng = random.Random(seed)  # noqa: S311  (invented data)
    sellers = []
    for country, region, currency in (("FR", "", "EUR"), ("GB", "", "GBP"), ("IN", "KA", "INR")):
        entity, _ = LegalEntity.objects.get_or_create(
            name=f"Bench {country}", defaults={"address_line1": "1 Bench St", "city": "Bench",
                                               "country": country, "region": region},
        )  # fmt: skip
        brand, _ = Brand.objects.get_or_create(name=f"Bench {country}", legal_entity=entity)
        series = {}
        for kind in ("invoice", "credit_note"):
            series[kind], _ = DocumentSeries.objects.get_or_create(
                legal_entity=entity, kind=kind, defaults={"prefix": f"B{country}{kind[0]}"}
            )
        sellers.append((entity, brand, series, currency))
    shapes = {
        "FR": [("domestic", "FR", [("VAT", "20")]), ("oss", "DE", [("VAT", "19")]),
               ("oss", "ES", [("VAT", "21")]), ("reverse_charge", "IT", [("VAT", "0")]),
               ("outside_scope", "FR", [("VAT", "0")])],
        "GB": [("domestic", "GB", [("VAT", "20")]), ("outside_scope", "GB", [("VAT", "0")])],
        "IN": [("intra_state", "IN", [("CGST", "9"), ("SGST", "9")]),
               ("inter_state", "IN", [("IGST", "18")]), ("export", "IN", [("IGST", "0")])],
    }  # fmt: skip
    span = int((datetime.combine(SPAN[1], datetime.min.time()) -
                datetime.combine(SPAN[0], datetime.min.time())).total_seconds())  # fmt: skip
    base = datetime.combine(SPAN[0], datetime.min.time(), tzinfo=UTC)
    n, batch = have, []
    while n < target:
        entity, brand, series, currency = sellers[n % 3]
        treatment, tax_country, parts = rng.choice(shapes[entity.country])
        net = rng.randrange(500, 100_000)
        tax_lines = [{"name": name, "percent": pct, "taxable": net,
                      "amount": net * int(pct) // 100} for name, pct in parts]  # fmt: skip
        tax = sum(line["amount"] for line in tax_lines)
        kind = "credit_note" if n % 10 == 9 else "invoice"
        issued = base + timedelta(seconds=rng.randrange(span))
        batch.append(Document(
            kind=kind, series=series[kind], number=f"{series[kind].prefix}-{n}", issued_at=issued,
            supply_date=issued.date(), source_key=f"bench:{n}", legal_entity=entity, brand=brand,
            seller={}, buyer={}, lines=[], tax_lines=tax_lines, treatment=treatment,
            tax_category="S", tax_country=tax_country, prices_include_tax=False,
            currency=currency, net=net, tax=tax, gross=net + tax, language="en", pdf=b"",
        ))  # fmt: skip
        n += 1
        if len(batch) == 5000 or n == target:
            with transaction.atomic():
                Document.objects.bulk_create(batch)
            batch = []
            if n % 100_000 == 0:
                print(f"  {n:,} documents", flush=True)
    return n - have


if __name__ == "__main__":
    main()
