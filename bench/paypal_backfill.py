"""Backfill benchmark: billingdesk's PayPal connector against the fake PayPal REST API.

    .venv/bin/python bench/paypal_backfill.py --customers 200 --charges 5

Seeds the fake (``tests/fakes/paypal_api.py``, a real HTTP server) with N payers, each with M
completed checkouts (every fifth capture partly refunded), then runs ``account_backfill``
into a fresh SQLite database through the connector's REST client, counting API calls (at the
fake, the OAuth token and the 36 Transaction Search windows of three years included) and DB
queries (``execute_wrapper``). Prints JSON and a Markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--charges", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bd-pp-bench-"))
    os.environ["BILLINGDESK_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tests.fakes.paypal_api import PayPalFake

    from billingdesk.billing.models import Charge, Customer, Refund
    from billingdesk.gateways.models import GatewayAccount
    from billingdesk.gateways.sync import account_backfill

    call_command("migrate", verbosity=0)
    with PayPalFake() as fake:
        m = fake.merchant("bench", "secret_bench", "USD")
        # The history starts 70 days ago and spans under two hours: one Transaction Search
        # window holds its 1,200 rows (three pages of 500); the other 35 windows are empty.
        fake._clock = datetime.now(UTC).replace(microsecond=0) - timedelta(days=70)
        for i in range(args.customers):
            payer = fake.payer(f"person{i}@example.com")
            for j in range(args.charges):
                capture = fake.add_payment(
                    m, email=payer["email_address"], payer=payer, amount=f"{10 + j}.00"
                )
                if (i * args.charges + j) % 5 == 0:
                    fake.add_refund(m, capture, "1.00")
                fake._clock += timedelta(seconds=5)
        account = GatewayAccount.objects.create(
            kind="paypal",
            name="bench",
            default_currency="USD",
            credentials={
                "client_id": "bench",
                "client_secret": "secret_bench",
                "environment": "sandbox",
                "webhook_id": "WH-bench",
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
            run = account_backfill(account=account)
            seconds = time.perf_counter() - started
        calls = len(fake.requests)
        searches = len(fake.search_windows)
    objects = Customer.objects.count() + Charge.objects.count() + Refund.objects.count()
    result = {
        "status": run.status,
        "seconds": round(seconds, 3),
        "api_calls": calls,
        "transaction_search_calls": searches,
        "queries": queries,
        "customers": Customer.objects.count(),
        "charges": Charge.objects.count(),
        "refunds": Refund.objects.count(),
        "objects": objects,
        "calls_per_object": round(calls / objects, 4),
        "queries_per_object": round(queries / objects, 4),
    }
    print(json.dumps(result, indent=2))
    print(
        f"| {args.customers} x {args.charges} | {objects} | {calls} | "
        f"{result['calls_per_object']} | {queries} | {result['queries_per_object']} | "
        f"{seconds:.2f} |"
    )


if __name__ == "__main__":
    main()
