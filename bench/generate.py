"""Bulk-load a benchmark mirror: N persons, 10·N charges, and what surrounds them.

    export DATABASE_URL=sqlite:///var/bench/panel.sqlite3    # or, for PostgreSQL:
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_bench
    .venv/bin/python bench/generate.py --persons 100000      # default 1,000,000
    .venv/bin/python bench/generate.py --search-only         # persons, customers, search words

The database must be a separate benchmark database (DATABASE_URL is required, and the demo's
default SQLite file is refused); its billing tables are emptied first. Django migrates it,
then the rows go in without the ORM: SQLite through one ``executemany`` transaction per table
with journaling off; PostgreSQL through ``COPY`` (psycopg) with foreign-key triggers off for
the session. Secondary indexes are dropped for the load and rebuilt after it, then the
planner statistics are refreshed.

What a person gets (about, for N persons): 1.1·N customers (10 % have a second one in the
other account, matched by email), a card per customer, a subscription, 10·N charges spread
over three years in time order (so a person's charges are scattered through the table, as in
a real mirror), an invoice for every third charge, a partial refund for every tenth, a
dispute for one in 200, an agent action for one person in 50, and one "heavy" customer in
100,000 with 2,000 charges.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

Row = tuple[Any, ...]

FIRST = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "June", "Kofi",
         "Lena", "Mateo", "Nina", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás"]  # fmt: skip
LAST = ["López", "Smith", "Wang", "Okafor", "Müller", "Dubois", "Rossi", "Kim", "Silva",
        "Novak", "Haddad", "Jensen", "Garcia", "Ivanova", "Sato", "Brown", "Costa", "Nair",
        "Fischer"]  # fmt: skip
PRODUCTS = ["Pro", "Starter", "Team", "Coffee club", "Annual plan", "Add-on seats"]
SPAN_START = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
SPAN_SECONDS = 3 * 365 * 86400
HEAVY_CHARGES = 2000  # each, for one customer in 100,000 (at least one)


class Clock:
    """UTC timestamps as the text both databases accept ('2024-05-01 12:30:05'); each day's
    date is formatted once."""

    def __init__(self) -> None:
        self.days: dict[int, str] = {}

    def __call__(self, epoch: int) -> str:
        day, second = divmod(epoch, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        hours, second = divmod(second, 3600)
        minutes, second = divmod(second, 60)
        return f"{prefix} {hours:02d}:{minutes:02d}:{second:02d}"


# --- the rows -----------------------------------------------------------------------------


class Plan:
    """Every id and relation, decided up front so each table is written in one pass."""

    def __init__(self, persons: int, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
        self.persons = persons
        # Customer ids 1..persons belong to persons 1..persons (first account); the extra
        # customers (second account) follow.
        extra = rng.sample(range(1, persons + 1), k=persons // 10)
        self.customer_person = list(range(1, persons + 1)) + extra  # index = customer id - 1
        self.customers = len(self.customer_person)
        self.seed = seed
        self.charges = persons * 10
        self.heavy = max(1, persons // 100_000)
        self.rng = rng


def persons_rows(plan: Plan, ts: Clock) -> Iterator[Row]:
    now = ts(SPAN_START)
    for p in range(1, plan.persons + 1):
        yield (p, f"{FIRST[p % 20]} {LAST[p % 19]} {p}", f"user{p}@example.com", now)


def customers_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    for c, p in enumerate(plan.customer_person, start=1):
        second = c > plan.persons
        at = ts(SPAN_START + (p * 37) % SPAN_SECONDS // 4)
        email = f"user{p}@example.com"
        phone = f"+1415{p:07d}"
        yield (
            c, accounts[1 if second else 0], f"cus_{c:09d}", at, at, "{}", 0, at, p,
            "email" if second else "new", 95 if second else 100, 0, email, email,
            f"{FIRST[p % 20]} {LAST[p % 19]} {p}", phone, phone, "US", "USD", "",
        )  # fmt: skip


def payment_methods_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    at = ts(SPAN_START)
    for c in range(1, plan.customers + 1):
        acc = accounts[1 if c > plan.persons else 0]
        yield (
            c, acc, f"pm_{c:09d}", at, at, "{}", 0, at, c, f"cus_{c:09d}", "card", "visa",
            f"{c % 10000:04d}", 12, 2030, "", 1,
        )  # fmt: skip


def subscriptions_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    for p in range(1, plan.persons + 1):
        start = SPAN_START + (p * 37) % SPAN_SECONDS
        at, end = ts(start), ts(start + 30 * 86400)
        status = "canceled" if p % 9 == 0 else "active"
        yield (
            p, accounts[0], f"sub_{p:09d}", at, at, "{}", 0, at, p, f"cus_{p:09d}", status,
            PRODUCTS[p % 6], "pro-monthly", 1900, "USD", "month", 1, 1, at, end,
            1 if p % 13 == 0 else 0, end if status == "canceled" else None,
            end if status == "canceled" else None, None, None,
        )  # fmt: skip


def charge_customers(plan: Plan) -> Iterator[tuple[int, int]]:
    """(charge id, customer id) in time order; heavy customers are spread throughout.

    Deterministic, so each of the tables made from the charges walks it again instead of
    holding millions of rows in memory.
    """
    random_ = random.Random(plan.seed + 1).random  # noqa: S311 - benchmark data
    heavy_total = plan.heavy * HEAVY_CHARGES
    every = plan.charges / heavy_total
    first_normal = plan.heavy + 1
    spread = plan.customers - plan.heavy
    hits = 0
    for i in range(1, plan.charges + 1):
        if i - 1 >= hits * every and hits < heavy_total:
            hits += 1
            yield i, 1 + hits % plan.heavy
        else:
            yield i, first_normal + int(random_() * spread)


def _charge_time(plan: Plan, i: int) -> int:
    return SPAN_START + int(i * SPAN_SECONDS / plan.charges)


def _amount(i: int) -> int:
    return 500 + (i * 7919) % 20000


def charges_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    for i, c in charge_customers(plan):
        at = ts(_charge_time(plan, i))
        amount = _amount(i)
        refunded = amount // 2 if i % 10 == 3 else 0
        status = (
            "disputed" if i % 200 == 7 else "partially_refunded" if refunded else
            "failed" if i % 50 == 11 else "captured"
        )  # fmt: skip
        invoice_id = i // 3 if i % 3 == 0 else None
        yield (
            i, accounts[1 if c > plan.persons else 0], f"ch_{i:010d}", at, at, "{}", 0, at, c,
            f"cus_{c:09d}", c, f"pm_{c:09d}", invoice_id,
            f"in_{invoice_id:010d}" if invoice_id else "", amount, "USD",
            0 if status == "failed" else amount, refunded, status, "", PRODUCTS[i % 6],
            f"ORD-{i:010d}", f"pi_{i:010d}", "visa", f"{c % 10000:04d}",
            "card_declined" if status == "failed" else "",
            "Your card was declined." if status == "failed" else "", "",
        )  # fmt: skip


def invoices_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    """An invoice for every third charge."""
    for i, c in charge_customers(plan):
        if i % 3:
            continue
        at, n, amount = ts(_charge_time(plan, i)), i // 3, _amount(i)
        yield (
            n, accounts[1 if c > plan.persons else 0], f"in_{n:010d}", at, at, "{}", 0, at, c,
            f"cus_{c:09d}", None, "", "paid", f"INV-{n:08d}", "USD", amount, 0, amount, 0,
            amount, None, None, None, "", "", f"ch_{i:010d}",
        )  # fmt: skip


def refunds_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    """Half of every tenth charge refunded."""
    for i, c in charge_customers(plan):
        if i % 10 != 3:
            continue
        at = ts(_charge_time(plan, i))
        yield (
            i // 10 + 1, accounts[1 if c > plan.persons else 0], f"re_{i:010d}", at, at, "{}", 0,
            at, i, f"ch_{i:010d}", _amount(i) // 2, "USD", "succeeded", "requested_by_customer",
        )  # fmt: skip


def disputes_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    """One charge in 200 disputed."""
    for i, c in charge_customers(plan):
        if i % 200 != 7:
            continue
        at = ts(_charge_time(plan, i))
        yield (
            i // 200 + 1, accounts[1 if c > plan.persons else 0], f"dp_{i:010d}", at, at, "{}",
            0, at, i, f"ch_{i:010d}", _amount(i), "USD", "needs_response", "fraudulent", None,
        )  # fmt: skip


def audit_rows(plan: Plan, ts: Clock, accounts: list[str]) -> Iterator[Row]:
    for seq, p in enumerate(range(1, plan.persons + 1, 50), start=1):
        at = ts(SPAN_START + SPAN_SECONDS - 86400 + seq % 86400)
        yield (
            seq, seq, at, None, "Bench Agent (bench)", "", "refund", "succeeded", accounts[0], p,
            "charge", f"ch_{p:010d}", 500, "USD", "requested_by_customer", "benchmark row", "",
            "", None, None, "0" * 64, f"{seq:064x}",
        )  # fmt: skip


def customer_tokens_rows(plan: Plan) -> Iterator[Row]:
    """The search words of each customer, as ``billing.name_tokens`` writes them."""
    from billingdesk.billing.name_tokens import customer_tokens

    n = 0
    for c, p in enumerate(plan.customer_person, start=1):
        for token in sorted(
            customer_tokens(f"{FIRST[p % 20]} {LAST[p % 19]} {p}", f"user{p}@example.com")
        ):
            n += 1
            yield (n, c, token)


# --- the databases ------------------------------------------------------------------------

TABLES = [
    "billing_person", "billing_customer", "billing_paymentmethod", "billing_subscription",
    "billing_invoice", "billing_charge", "billing_refund", "billing_dispute",
    "actions_auditentry", "billing_customertoken",
]  # fmt: skip


class Loader:
    def columns(self, table: str) -> list[str]:
        from django.apps import apps

        model = next(m for m in apps.get_models() if m._meta.db_table == table)
        return [f.column for f in model._meta.concrete_fields]

    def load(self, table: str, rows: Iterable[Row]) -> int:
        raise NotImplementedError

    def drop_indexes(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class SqliteLoader(Loader):
    def __init__(self, path: str) -> None:
        import sqlite3

        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "temp_store=MEMORY",
            "cache_size=-1000000", "locking_mode=EXCLUSIVE",
        ):  # fmt: skip
            self.db.execute(f"PRAGMA {pragma}")
        self.indexes: list[str] = []

    def wipe(self) -> None:
        for table in TABLES:
            self.db.execute(f'DELETE FROM "{table}"')  # noqa: S608 - our own table names

    def drop_indexes(self) -> None:
        marks = ",".join("?" * len(TABLES))
        found = self.db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks})",
            TABLES,
        ).fetchall()
        for name, sql in found:
            self.db.execute(f'DROP INDEX "{name}"')
            self.indexes.append(sql)

    def load(self, table: str, rows: Iterable[Row]) -> int:
        columns = self.columns(table)
        sql = (
            f'INSERT INTO "{table}" ({",".join(columns)}) '  # noqa: S608
            f"VALUES ({','.join('?' * len(columns))})"
        )
        counted = _Counter(rows)
        self.db.execute("BEGIN")
        self.db.executemany(sql, counted)
        self.db.execute("COMMIT")
        return counted.n

    def finish(self) -> None:
        for sql in self.indexes:
            self.db.execute(sql)
        self.db.execute("PRAGMA analysis_limit=2000")
        self.db.execute("ANALYZE")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.close()


class PostgresLoader(Loader):
    def __init__(self, settings: dict[str, Any]) -> None:
        import psycopg

        self.db = psycopg.connect(
            dbname=settings["NAME"],
            user=settings.get("USER") or None,
            password=settings.get("PASSWORD") or None,
            host=settings.get("HOST") or None,
            port=settings.get("PORT") or None,
            autocommit=True,
        )
        self.db.execute("SET TIME ZONE 'UTC'")
        # Foreign keys are checked by triggers; the replica role skips them for this session.
        self.db.execute("SET session_replication_role = replica")
        self.db.execute("SET maintenance_work_mem = '1GB'")
        self.indexes: list[str] = []

    def wipe(self) -> None:
        self.db.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")

    def drop_indexes(self) -> None:
        found = self.db.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (TABLES,),
        ).fetchall()
        for name, sql in found:
            self.db.execute(f'DROP INDEX "{name}"')
            self.indexes.append(sql)

    def load(self, table: str, rows: Iterable[Row]) -> int:
        columns = self.columns(table)
        n = 0
        with (
            self.db.cursor() as cur,
            cur.copy(f'COPY "{table}" ({",".join(columns)}) FROM STDIN') as copy,
        ):
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(["\\N" if v is None else str(v) for v in row]))
                buffer.write("\n")
                n += 1
                if n % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        return n

    def finish(self) -> None:
        for sql in self.indexes:
            self.db.execute(sql)
        for table in TABLES:
            self.db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
        self.db.execute("SET session_replication_role = DEFAULT")
        for table in TABLES:
            self.db.execute(f"VACUUM ANALYZE {table}")
        self.db.close()


class _Counter:
    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows = iter(rows)
        self.n = 0

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> Row:
        row = next(self.rows)
        self.n += 1
        return row


def _timed(label: str, action: Callable[[], int | None]) -> None:
    started = time.perf_counter()
    n = action()
    took = time.perf_counter() - started
    rate = f", {n / took:,.0f} rows/s" if n else ""
    print(f"  {label:<24} {f'{n:,}' if n else '':>12} rows in {took:7.1f} s{rate}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="only what a search reads: persons, customers and their search words",
    )
    args = parser.parse_args()
    generate(args.persons, seed=args.seed, search_only=args.search_only)


def generate(persons: int, *, seed: int = 4, search_only: bool = False) -> None:
    """Load ``persons`` persons (and, unless ``search_only``, their history) into the
    database named by ``DATABASE_URL``."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit(
            "Set DATABASE_URL to a benchmark database (e.g. sqlite:///var/bench/panel.sqlite3)."
        )
    if (
        url.startswith("sqlite")
        and Path(url.split("///", 1)[-1]).resolve()
        == (ROOT / "var" / "billingdesk.sqlite3").resolve()
    ):
        sys.exit("That is the demo database; use a separate benchmark database.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    os.environ.setdefault("BILLINGDESK_DATA_DIR", str(ROOT / "var" / "bench"))
    if url.startswith("sqlite"):
        # A benchmark file is rebuilt from nothing: faster than emptying its tables.
        path = Path(url.split("///", 1)[-1])
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from billingdesk.gateways.models import GatewayAccount

    if connection.vendor == "postgresql":
        # Empty the tables first: deleting the old accounts through the ORM would walk every
        # mirrored row (Django cascades in Python).
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    GatewayAccount.objects.filter(name__startswith="Bench ").delete()
    accounts = [
        GatewayAccount.objects.create(kind="sandbox", name=name, default_currency="USD",
                                      dashboard_url="https://dashboard.example/")
        for name in ("Bench US", "Bench EU")
    ]  # fmt: skip
    settings = connection.settings_dict
    vendor = connection.vendor
    connection.close()
    loader: SqliteLoader | PostgresLoader
    if vendor == "sqlite":
        loader = SqliteLoader(settings["NAME"])
        ids = [uuid.UUID(str(a.pk)).hex for a in accounts]
    else:
        loader = PostgresLoader(settings)
        ids = [str(a.pk) for a in accounts]
    print(f"Loading {persons:,} persons into {vendor} ({settings['NAME']})", flush=True)
    loader.wipe()
    loader.drop_indexes()
    plan = Plan(persons, seed)
    ts = Clock()
    _timed("persons", lambda: loader.load("billing_person", persons_rows(plan, ts)))
    _timed("customers", lambda: loader.load("billing_customer", customers_rows(plan, ts, ids)))
    _timed("search words", lambda: loader.load("billing_customertoken", customer_tokens_rows(plan)))
    if search_only:
        _timed("indexes and statistics", lambda: loader.finish())
        print(f"Done in {time.perf_counter() - started:.0f} s", flush=True)
        return
    _timed(
        "payment methods",
        lambda: loader.load("billing_paymentmethod", payment_methods_rows(plan, ts, ids)),
    )
    _timed(
        "subscriptions",
        lambda: loader.load("billing_subscription", subscriptions_rows(plan, ts, ids)),
    )
    _timed("charges", lambda: loader.load("billing_charge", charges_rows(plan, ts, ids)))
    _timed("invoices", lambda: loader.load("billing_invoice", invoices_rows(plan, ts, ids)))
    _timed("refunds", lambda: loader.load("billing_refund", refunds_rows(plan, ts, ids)))
    _timed("disputes", lambda: loader.load("billing_dispute", disputes_rows(plan, ts, ids)))
    _timed("agent actions", lambda: loader.load("actions_auditentry", audit_rows(plan, ts, ids)))
    _timed("indexes and statistics", lambda: loader.finish())
    print(f"Done in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
