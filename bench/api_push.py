"""Bulk push throughput: charges pushed to a custom gateway account in batches of 1,000,
through the whole API path (key check, rate limit, validation, ``mirror_upsert``), with
Django's test client in-process.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_bench   # or sqlite:///…
    .venv/bin/python bench/api_push.py --objects 20000

The database must be a separate benchmark database (DATABASE_URL is required); it is
migrated, and the benchmark's account is created afresh. New charges first (inserts), then
the same charges with a newer ``updated`` (updates). The charges are dated before the
account's ``documents_from`` (history: no receipt is issued, which would queue one job per
charge; that path is the documents app's).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is required (a benchmark database)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    from billingdesk.api.keys import apikey_create
    from billingdesk.gateways.models import GatewayAccount

    account = GatewayAccount.objects.create(kind="custom", name=f"bench {uuid.uuid4().hex[:8]}")
    _, key = apikey_create(
        name=f"bench {account.pk}", scopes=["push"], rate_limit_per_minute=100_000
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    print(f"{connection.vendor}: {args.objects} charges in batches of {args.batch}")
    for label, stamp in (("insert", "2026-01-05T09:00:00+00:00"),
                         ("update", "2026-01-05T10:00:00+00:00")):  # fmt: skip
        start = time.perf_counter()
        for first in range(0, args.objects, args.batch):
            objects = [
                {"object": "charge", "id": f"order-{n}", "updated": stamp, "created": stamp,
                 "customer_id": None,
                 "amount": 1000 + n, "amount_captured": 1000 + n, "currency": "EUR",
                 "status": "captured"}
                for n in range(first, min(first + args.batch, args.objects))
            ]  # fmt: skip
            response = client.post(
                f"/api/v1/push/{account.pk}", {"objects": objects}, content_type="application/json"
            )
            assert response.status_code == 200, response.content[:300]
        seconds = time.perf_counter() - start
        print(f"{label}: {args.objects / seconds:,.0f} objects/s ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
