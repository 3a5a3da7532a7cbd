"""The report pages: finance and admins only (a styled 403 for agents and read-only users),
bad filters answered 400 with the reason, CSV exports that a spreadsheet cannot be made to
run, in the four languages with Babel's money and dates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from billingdesk.actions.audit import audit_record
from billingdesk.panel.tests.factories import agent

from .builders import account, charge, refund

pytestmark = pytest.mark.django_db

PAGES = [
    "/reports/",
    "/reports/revenue/",
    "/reports/revenue.csv",
    "/reports/subscriptions/",
    "/reports/subscriptions.csv",
    "/reports/invoices/",
    "/reports/tax/",
    "/reports/tax.csv",
    "/reports/refunds/",
    "/reports/audit/",
]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def finance() -> Client:
    return _client(agent("finance"))


@pytest.fixture
def sales():
    acct = account("EU store")
    at = datetime(2026, 5, 4, 10, tzinfo=UTC)
    paid = charge(acct, at, 123456, "EUR", product='=HYPERLINK("http://x")')
    refund(acct, paid, at, 456)
    charge(acct, at, 5000, "JPY", product="Team")
    return acct


@pytest.mark.parametrize("role", ["read_only", "agent"])
@pytest.mark.parametrize("path", PAGES)
def test_agents_and_read_only_users_are_refused(role, path):
    response = _client(agent(role)).get(path)
    assert response.status_code == 403
    assert "finance role" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/reports/revenue/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", PAGES)
def test_finance_and_admins_see_every_report(path, finance):
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    for client in (finance, _client(admin)):
        assert client.get(path).status_code == 200, path


def test_revenue_page_shows_each_currency_apart_in_the_agents_language(finance, sales):
    query = "?start=2026-05-01&end=2026-05-31&group=day"
    english = finance.get("/reports/revenue/" + query).content.decode()
    assert "€1,234.56" in english and "¥5,000" in english and "€1,230.00" in english
    assert "May 4, 2026" in english
    # A chart per currency, each bar titled with its period and amount; the table follows.
    assert english.count('<svg class="chart"') == 2
    assert "<title>May 4, 2026: €1,230.00</title>" in english
    french = finance.get("/reports/revenue/" + query + "&lang=fr").content.decode()
    assert "1\u202f234,56\u00a0€" in french and "4 mai 2026" in french and "Recettes" in french
    german = finance.get("/reports/revenue/" + query + "&lang=de").content.decode()
    assert "1.234,56\u00a0€" in german and "Umsatz" in german
    spanish = finance.get("/reports/revenue/" + query + "&lang=es").content.decode()
    assert "Ingresos" in spanish


BAD = [
    ("/reports/revenue/?start=2026-13-01", "From"),
    ("/reports/revenue/?start=2026-05-10&end=2026-05-01", "starts after it ends"),
    ("/reports/revenue/?start=1900-01-01&end=2026-01-01", "ten years"),
    ("/reports/revenue/?group=year", "Per"),
    ("/reports/revenue/?currency=ZZZ", "not an ISO 4217 currency code"),
    ("/reports/revenue/?convert=EURO", "Also convert to"),
    ("/reports/revenue/?account=not-a-uuid", "Gateway account"),
    ("/reports/revenue/?start=2026-05-01&end=2026-05-31&convert=USD", "no ECB reference rate"),
    ("/reports/revenue.csv?end=x", "To"),
    ("/reports/tax/?start=yesterday", "From"),
    ("/reports/tax.csv?start=2026-05-10&end=2026-05-01", "starts after it ends"),
    ("/reports/subscriptions/?end=2026-02-30", "To"),
    ("/reports/refunds/?start=" + "9" * 300, "From"),
    ("/reports/audit/?person=" + "9" * 30, "Person"),
    ("/reports/audit/?page=0", "page"),
]


@pytest.mark.parametrize(("path", "reason"), BAD)
def test_bad_filters_answer_400_with_the_reason(finance, sales, path, reason):
    response = finance.get(path)
    assert response.status_code == 400, path
    assert reason.lower() in response.content.decode().lower(), response.content.decode()[:2000]


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_revenue_csv_is_locale_independent_and_defused(finance, sales):
    response = finance.get(
        "/reports/revenue.csv?start=2026-05-01&end=2026-05-31&group=month&by=product&lang=fr"
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    eur = next(r for r in rows if r["currency"] == "EUR" and r["period_start"] == "2026-05-01")
    assert eur["split"] == '\'=HYPERLINK("http://x")'  # text that would be a formula
    assert (eur["gross_minor"], eur["refunds_minor"], eur["net_minor"]) == (
        "123456",
        "456",
        "123000",
    )
    assert (eur["gross"], eur["net"]) == ("1234.56", "1230.00")  # a dot, whatever the language
    jpy = next(r for r in rows if r["currency"] == "JPY" and r["period_start"] == "2026-05-01")
    assert (jpy["gross_minor"], jpy["gross"]) == ("5000", "5000")
    assert {r["converted"] for r in rows} == {"false"}


def test_audit_trail_filters_pages_and_exports(finance):
    actor = User.objects.create_user("dora", first_name="Dora")
    for n in range(3):
        audit_record(actor=actor, action="refund", result="succeeded", target_id=f"ch_{n}",
                     amount=100 * n, currency="EUR", reason_text="@SUM(A1)")  # fmt: skip
    audit_record(actor=None, action="document_resend", result="queued", target_id="F-1")
    page = finance.get("/reports/audit/?action=refund").content.decode()
    assert page.count("<tr>") == 1 + 3 and "ch_2" in page and "F-1" not in page
    assert "has not been verified yet" in page
    rows = _csv(finance.get("/reports/audit/?actor=dora&format=csv"))
    assert [r["target_id"] for r in rows] == ["ch_2", "ch_1", "ch_0"]
    assert rows[0]["reason_text"] == "'@SUM(A1)" and rows[0]["amount_minor"] == "200"
    assert finance.get("/reports/audit/?target=F-1").content.decode().count("<tr>") == 2


@override_settings(TIME_ZONE="UTC")
def test_the_refunds_report_counts_requests_per_agent(finance):
    from billingdesk.actions.models import ActionKind, ActionRequest

    acct = account("Refunds")
    dora = User.objects.create_user("dora", first_name="Dora", last_name="Diaz")
    boss = User.objects.create_user("boss")
    statuses = [("succeeded", None, 1000), ("succeeded", boss, 9000), ("denied", boss, 7000),
                ("pending_approval", None, 6000), ("failed", None, 50)]  # fmt: skip
    for n, (status, approver, amount) in enumerate(statuses):
        ActionRequest.objects.create(
            idempotency_key=f"k{n}", kind=ActionKind.REFUND, status=status, account=acct,
            target_kind="charge", target_id=f"ch_{n}", requested_by=dora, approved_by=approver,
            amount=amount, currency="EUR", reason_code="duplicate",
        )  # fmt: skip
    rows = _csv(finance.get("/reports/refunds/?format=csv"))
    assert rows == [
        {"agent": "Dora Diaz (dora)", "currency": "EUR", "reason": "duplicate", "requested": "5",
         "succeeded": "2", "amount_minor": "10000", "amount": "100.00", "approval_asked": "3",
         "approved": "1", "denied": "1"},
    ]  # fmt: skip
