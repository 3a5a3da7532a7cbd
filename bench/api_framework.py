"""The same list endpoint (a page of 50 charges, money as minor units) in django-ninja and in
Django REST framework + drf-spectacular, timed through Django's test client, in-process.

    .venv/bin/python bench/api_framework.py [--requests 2000]

DRF and drf-spectacular are not billingdesk dependencies: install them for this comparison
only (``pip install djangorestframework==3.18.3 drf-spectacular==0.30.0``). Each request runs
the full middleware stack, the query and the serialisation; the database is a fresh SQLite
file in a temporary directory. The schema generation time is measured too.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
    import django
    from django.conf import settings

    settings.INSTALLED_APPS += ["rest_framework", "drf_spectacular"]
    settings.REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from billingdesk.billing.models import Charge
    from billingdesk.gateways.models import GatewayAccount

    account = GatewayAccount.objects.create(kind="sandbox", name="Bench")
    now = datetime.now(UTC)
    Charge.objects.bulk_create(
        Charge(account=account, gateway_id=f"ch_{i}", gateway_updated_at=now,
               gateway_created_at=now, amount=1000 + i, currency="EUR", status="captured")
        for i in range(200)
    )  # fmt: skip

    ninja_urls, ninja_schema = _ninja()
    drf_urls, drf_schema = _drf()
    from django.urls import clear_url_caches, path

    import billingdesk.config.urls as urls

    urls.urlpatterns = [*ninja_urls, *drf_urls, *urls.urlpatterns]
    clear_url_caches()
    from django.test import Client

    client = Client()
    for url in ("/bench-ninja/charges", "/bench-drf/charges"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        assert len(response.json()["items"]) == 50
    print(f"requests per framework: {args.requests}, page of 50 charges, SQLite")
    for name, url in (("django-ninja", "/bench-ninja/charges"), ("DRF", "/bench-drf/charges")):
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - start)
        times.sort()
        print(
            f"{name:14} median {statistics.median(times) * 1000:.2f} ms  "
            f"p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms"
        )
    for name, make in (("django-ninja", ninja_schema), ("DRF", drf_schema)):
        start = time.perf_counter()
        version = make()
        print(f"{name:14} schema {version} in {(time.perf_counter() - start) * 1000:.1f} ms")
    del path


def _ninja() -> tuple[list[Any], Any]:
    from ninja import NinjaAPI, Schema

    from billingdesk.billing.models import Charge

    class ChargeOut(Schema):
        id: str
        amount: int
        currency: str
        status: str
        created_at: datetime | None

    class PageOut(Schema):
        items: list[ChargeOut]
        next_cursor: str | None

    api = NinjaAPI(urls_namespace="bench-ninja")

    @api.get("/charges", response=PageOut)
    def charges(request: Any) -> dict[str, Any]:
        rows = Charge.objects.order_by("-id")[:50]
        return {
            "items": [
                {
                    "id": c.gateway_id,
                    "amount": c.amount,
                    "currency": c.currency,
                    "status": c.status,
                    "created_at": c.gateway_created_at,
                }
                for c in rows
            ],
            "next_cursor": None,
        }

    from django.urls import path

    return [path("bench-ninja/", api.urls)], lambda: api.get_openapi_schema()["openapi"]


def _drf() -> tuple[list[Any], Any]:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework import serializers
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from billingdesk.billing.models import Charge

    class ChargeOut(serializers.Serializer):
        id = serializers.CharField(source="gateway_id")
        amount = serializers.IntegerField()
        currency = serializers.CharField()
        status = serializers.CharField()
        created_at = serializers.DateTimeField(source="gateway_created_at", allow_null=True)

    class Charges(APIView):
        permission_classes = [AllowAny]
        authentication_classes: list[Any] = []

        def get(self, request: Any) -> Response:
            rows = Charge.objects.order_by("-id")[:50]
            return Response({"items": ChargeOut(rows, many=True).data, "next_cursor": None})

    from django.urls import path

    urls = [path("bench-drf/charges", Charges.as_view())]

    def schema() -> str:
        return str(SchemaGenerator(patterns=urls).get_schema(request=None, public=True)["openapi"])

    return urls, schema


if __name__ == "__main__":
    main()
