"""Backfill benchmark: billingdesk's Recurly connector against the fake Recurly API.

    .venv/bin/python bench/recurly_backfill.py --accounts 200 --transactions 5

Seeds the fake (``tests/fakes/recurly_api.py``, a real HTTP server speaking the v2021-02-25
JSON API) with N accounts, each with a card and M paid purchases (a charge invoice and its
purchase transaction each; every fifth one partly refunded: a credit invoice and a refund
transaction), then runs ``account_backfill`` into a fresh SQLite database through the official
client, counting API calls (at the fake) and DB queries (``execute_wrapper``). Prints JSON
and a Markdown row for docs/benchmarks.md: calls and queries per mirrored object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--transactions", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bd-recurly-bench-"))
    os.environ["BILLINGDESK_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tests.fakes.recurly_api import RecurlyFake

    from billingdesk.billing.models import Charge, Customer, Invoice, PaymentMethod, Refund
    from billingdesk.gateways.models import GatewayAccount
    from billingdesk.gateways.sync import account_backfill

    call_command("migrate", verbosity=0)
    with RecurlyFake() as fake:
        site = fake.site("rk_bench", subdomain="bench", currency="USD")
        for i in range(args.accounts):
            account = fake.add_account(site, email=f"person{i}@example.com", first_name="P")
            fake.add_card(site, account["id"])
            for j in range(args.transactions):
                invoice = fake.purchase(site, account["id"], f"{10 + j}.00")
                if (i * args.transactions + j) % 5 == 0:
                    fake._refund(site, invoice, {"type": "amount", "amount": "1.00"})
        gateway = GatewayAccount.objects.create(
            kind="recurly",
            name="bench",
            default_currency="USD",
            credentials={
                "api_key": "rk_bench",
                "region": "us",
                "subdomain": "bench",
                "api_base": fake.url,
            },
        )
        fake.requests.clear()
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            run = account_backfill(account=gateway)
            seconds = time.perf_counter() - started
        calls = len(fake.requests)
    counts = {
        "customers": Customer.objects.count(),
        "payment_methods": PaymentMethod.objects.count(),
        "invoices": Invoice.objects.count(),
        "charges": Charge.objects.count(),
        "refunds": Refund.objects.count(),
    }
    objects = sum(counts.values())
    result = {
        "status": run.status,
        "seconds": round(seconds, 3),
        "api_calls": calls,
        "queries": queries,
        **counts,
        "objects": objects,
        "calls_per_object": round(calls / objects, 4),
        "queries_per_object": round(queries / objects, 4),
    }
    print(json.dumps(result, indent=2))
    print(
        f"| {args.accounts} x {args.transactions} | {objects} | {calls} | "
        f"{result['calls_per_object']} | {queries} | {result['queries_per_object']} | "
        f"{seconds:.2f} |"
    )


if __name__ == "__main__":
    main()
