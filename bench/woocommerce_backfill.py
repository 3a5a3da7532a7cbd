"""Backfill benchmark: billingdesk's WooCommerce connector against the fake WooCommerce shop.

    .venv/bin/python bench/woocommerce_backfill.py --customers 200 --orders 5

Seeds the fake (``tests/fakes/woocommerce_api.py``, a real HTTP server speaking the REST API
v3 with OAuth 1.0a checks, WordPress pagination headers, the Subscriptions extension) with N
customers, each with M paid orders of two line items (every fifth order partly refunded),
then runs ``account_backfill`` into a fresh SQLite database through the real client, counting
API calls (at the fake) and DB queries (``execute_wrapper``). Prints JSON and a Markdown row
for docs/benchmarks.md: calls and queries per mirrored object.
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
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bd-wc-bench-"))
    os.environ["BILLINGDESK_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tests.fakes.woocommerce_api import WooFake

    from billingdesk.billing.models import Charge, Customer, Refund
    from billingdesk.gateways.models import GatewayAccount
    from billingdesk.gateways.sync import account_backfill

    call_command("migrate", verbosity=0)
    with WooFake() as fake:
        shop = fake.shop("bench", currency="USD")
        for i in range(args.customers):
            customer = fake.add_customer(shop, email=f"person{i}@example.com", first_name="P")
            for j in range(args.orders):
                order = fake.add_order(
                    shop,
                    customer=customer,
                    items=[("Shirt", 2, f"{10 + j}.00"), ("Mug", 1, "4.50")],
                )
                if (i * args.orders + j) % 5 == 0:
                    fake.refund(shop, order["id"], {"amount": "1.00"})
        account = GatewayAccount.objects.create(
            kind="woocommerce",
            name="bench",
            default_currency="USD",
            credentials={
                "site_url": fake.site_url(shop),
                "consumer_key": shop.key,
                "consumer_secret": shop.secret,
            },
        )
        fake.log.clear()
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            run = account_backfill(account=account)
            seconds = time.perf_counter() - started
        calls = len(fake.log)
    objects = Customer.objects.count() + Charge.objects.count() + Refund.objects.count()
    result = {
        "status": run.status,
        "seconds": round(seconds, 3),
        "api_calls": calls,
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
        f"| {args.customers} x {args.orders} | {objects} | {calls} | "
        f"{result['calls_per_object']} | {queries} | {result['queries_per_object']} | "
        f"{seconds:.2f} |"
    )


if __name__ == "__main__":
    main()
