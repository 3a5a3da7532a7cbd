"""Reports (scope ``reports``) over the reports' selectors, the audit log's filters, cursor and
CSV export, and ETag / If-None-Match on reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billingdesk.actions.audit import audit_record
from billingdesk.actions.models import AuditEntry
from billingdesk.panel.tests.factories import Shop
from billingdesk.reports.selectors.revenue import revenue_report
from billingdesk.reports.selectors.subscriptions import mrr_report

pytestmark = pytest.mark.django_db
Api = Callable[..., Client]


def test_reports_need_the_reports_scope(api: Api, shop: Shop) -> None:
    response = api("read").get("/api/v1/reports/mrr")
    assert (response.status_code, response.json()["code"]) == (403, "scope_missing")


def test_revenue_is_the_reports_selector_as_json(api: Api, shop: Shop) -> None:
    today = timezone.localdate()
    body = api("reports").get(
        "/api/v1/reports/revenue", {"start": str(today - timedelta(days=2)), "end": str(today),
                                    "group": "day"},
    ).json()  # fmt: skip
    expected = revenue_report(start=today - timedelta(days=2), end=today, group="day")
    assert [(t["currency"], t["gross"], t["net"]) for t in body["totals"]] == [
        (t.currency, t.gross, t.net) for t in expected.totals
    ]
    assert body["totals"] and body["totals"][0]["gross"] > 0 and body["group"] == "day"
    assert all(isinstance(r["gross"], int) for r in body["rows"])


def test_mrr_invoices_tax_and_refunds_by_agent(api: Api, shop: Shop) -> None:
    client = api("reports")
    mrr = client.get("/api/v1/reports/mrr").json()
    assert mrr["mrr"] == mrr_report().mrr and mrr["mrr"].get("EUR") == 4500
    assert mrr["arr"]["EUR"] == 4500 * 12 and mrr["plans"][0]["plan"] == "pro-monthly"
    assert set(client.get("/api/v1/reports/invoices").json()) == {"lines", "overdue"}
    tax = client.get("/api/v1/reports/tax").json()
    assert set(tax) == {"start", "end", "lines", "totals"}
    assert client.get("/api/v1/reports/refunds-by-agent").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-02-01", "end": "2026-01-01"}, "query"),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "query"),
        ({"currency": "EURO"}, "query.currency"),
        ({"currency": "E1R"}, "query.currency"),
        ({"account": "00000000-0000-0000-0000-000000000000"}, "query.account"),
        ({"group": "year"}, "query.group"),
        ({"start": "yesterday"}, "query.start"),
    ],
)
def test_bad_report_filters_are_422_naming_the_field(
    api: Api, shop: Shop, query: dict[str, str], field: str
) -> None:
    response = api("reports").get("/api/v1/reports/revenue", query)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]


def _entries(shop: Shop) -> None:
    for n, (action, result) in enumerate(
        [("refund", "succeeded"), ("void", "refused"), ("refund", "refused")]
    ):
        audit_record(
            actor=None, action=action, result=result, account=shop.account,
            person_id=shop.customer.person_id, target_kind="charge", target_id=f"ch_{n}",
            amount=100 * (n + 1), currency="EUR", reason_text="=HYPERLINK(\"http://x\")",
        )  # fmt: skip


def test_audit_filters_and_cursor(api: Api, shop: Shop) -> None:
    _entries(shop)
    reader = api("read")
    refunds = reader.get("/api/v1/audit", {"action": "refund"}).json()["items"]
    assert [e["target_id"] for e in refunds] == ["ch_2", "ch_0"]  # newest first
    page = reader.get("/api/v1/audit", {"limit": 2}).json()
    rest = reader.get("/api/v1/audit", {"limit": 2, "cursor": page["next_cursor"]}).json()
    seqs = [e["seq"] for e in page["items"] + rest["items"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == AuditEntry.objects.count()
    account = reader.get("/api/v1/audit", {"account": str(shop.account.pk)}).json()["items"]
    assert len(account) == 3
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    assert reader.get("/api/v1/audit", {"start": tomorrow}).json()["items"] == []
    backwards = reader.get("/api/v1/audit", {"start": tomorrow, "end": "2026-01-01"})
    assert backwards.status_code == 400


def test_audit_csv_export_is_filtered_and_formula_safe(api: Api, shop: Shop) -> None:
    _entries(shop)
    response = api("read").get("/api/v1/audit/export", {"result": "refused"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["target_id"] for r in rows] == ["ch_2", "ch_1"]
    assert rows[0]["amount_minor"] == "300" and rows[0]["currency"] == "EUR"
    assert all(r["reason_text"].startswith("'=") for r in rows)


def test_reads_carry_an_etag_and_answer_304_until_the_data_changes(api: Api, shop: Shop) -> None:
    reader = api("read")
    url = f"/api/v1/charges/{shop.charge.pk}"
    first = reader.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and "Authorization" in first["Vary"]
    same = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304 and same.content == b"" and same["ETag"] == etag
    assert reader.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    shop.charge.description = "changed"
    shop.charge.save(update_fields=["description"])
    changed = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    listed = reader.get("/api/v1/charges")
    assert reader.get("/api/v1/charges", HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304


def test_no_etag_on_errors_or_writes(api: Api, shop: Shop) -> None:
    reader = api("read")
    missing = reader.get("/api/v1/charges/999999")
    assert missing.status_code == 404 and not missing.has_header("ETag")
    actor: Any = api("actions")
    preview = actor.post(
        "/api/v1/actions/preview",
        {"kind": "void", "target_type": "charge", "target_id": shop.hold.pk},
        content_type="application/json",
    )
    assert preview.status_code == 200 and not preview.has_header("ETag")
