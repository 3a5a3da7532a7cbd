"""Backfill benchmark: billingdesk's Braintree connector against the fake Braintree gateway.

    .venv/bin/python bench/braintree_backfill.py --customers 200 --charges 5

Seeds the fake (``tests/fakes/braintree_gateway.py``, a real HTTP server speaking the SDK's
XML API) with N customers, each with a card and M settled sales (every fifth sale partly
refunded), then runs ``account_backfill`` into a fresh SQLite database through the official
SDK, counting API calls (at the fake) and DB queries (``execute_wrapper``). Prints JSON and a
Markdown row for docs/benchmarks.md: calls and queries per mirrored object.
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
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--charges", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bd-bt-bench-"))
    os.environ["BILLINGDESK_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tests.fakes.braintree_gateway import BraintreeFake

    from billingdesk.billing.models import Charge, Customer, PaymentMethod, Refund
    from billingdesk.gateways.models import GatewayAccount
    from billingdesk.gateways.sync import account_backfill

    call_command("migrate", verbosity=0)
    with BraintreeFake() as fake:
        m = fake.merchant("bench", "pub_bench", "priv_bench", "USD")
        for i in range(args.customers):
            customer = fake.add_customer(m, email=f"person{i}@example.com", first_name="P")
            card = fake.add_card(m, customer["id"])
            for j in range(args.charges):
                sale = fake.add_sale(m, token=card["token"], amount=f"{10 + j}.00")
                if (i * args.charges + j) % 5 == 0:
                    fake._refund(m, sale, {"amount": "1.00"})
        account = GatewayAccount.objects.create(
            kind="braintree",
            name="bench",
            default_currency="USD",
            credentials={
                "merchant_id": "bench",
                "public_key": "pub_bench",
                "private_key": "priv_bench",
                "environment": "sandbox",
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
    objects = (
        Customer.objects.count()
        + PaymentMethod.objects.count()
        + Charge.objects.count()
        + Refund.objects.count()
    )
    result = {
        "status": run.status,
        "seconds": round(seconds, 3),
        "api_calls": calls,
        "queries": queries,
        "customers": Customer.objects.count(),
        "payment_methods": PaymentMethod.objects.count(),
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
