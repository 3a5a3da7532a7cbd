"""Finance's reports in a real browser (issue 19 #7): the charts drawn beside the tables that
hold the same figures, readable on a phone, printable without the navigation, a bad filter
answered on the page, and the tax workbook downloaded through the link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.panel.tests.factories import agent
from billingdesk.reports.tests.builders import account, charge, refund

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"
MAY = "start=2026-05-01&end=2026-05-31"
_WIDER = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               && !(e.parentElement && e.parentElement.closest('.table-wrap, table.report')))
  .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"""


@pytest.fixture
def sales(live_server: Any) -> None:
    acct = account("EU store")
    day = datetime(2026, 5, 4, 10, tzinfo=UTC)
    for i, amount in enumerate([12000, 4500, 30000]):
        paid = charge(acct, day + timedelta(days=i), amount)
        if i == 1:
            refund(acct, paid, day + timedelta(days=i), 1500)
    fin = agent("finance", "fiona", PASSWORD)
    ActionRequest.objects.create(
        idempotency_key="k1", kind=ActionKind.REFUND, status="succeeded", account=acct,
        target_kind="charge", target_id="ch_x", requested_by=fin, amount=1500, currency="EUR",
        reason_code="duplicate",
    )  # fmt: skip
    ActionRequest.objects.filter(idempotency_key="k1").update(created_at=day)


def test_charts_match_their_tables_fit_a_phone_and_print(
    sales: None, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    page = login("fiona", PASSWORD)
    page.goto(f"{live_server.url}/reports/revenue/?{MAY}&group=day")
    chart = page.locator("svg.chart")
    assert chart.count() == 1 and chart.is_visible()
    assert chart.bounding_box()["height"] > 50
    bars = [t.strip() for t in chart.locator("rect > title").all_text_contents()]
    assert len(bars) == 3
    # Every bar's label and amount is a row of the table below (the accessible version).
    table = page.inner_text("table#revenue-rows")
    for text in bars:
        when, amount = text.rsplit(": ", 1)
        assert when in table and amount in table, (text, table)
    assert "May 5, 2026: €30.00" in bars  # 45 € less the 15 € refund
    # On a phone the chart scales down instead of pushing the page sideways.
    page.set_viewport_size({"width": 375, "height": 800})
    assert chart.bounding_box()["width"] <= 375
    wider = page.evaluate(_WIDER)  # the tables themselves fit; their cells scroll inside them
    assert not wider, wider
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # Printed: the figures stay, the navigation and the filters go.
    page.emulate_media(media="print")
    assert chart.is_visible() and not page.locator("nav.report-nav").is_visible()
    assert not page.locator("form.filters").is_visible()


def test_refund_reasons_chart_bad_filter_and_workbook(
    sales: None, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    page = login("fiona", PASSWORD)
    page.goto(f"{live_server.url}/reports/")
    page.click("main >> text=Refunds, actions and disputes")
    page.wait_for_url("**/reports/refunds/")
    page.fill("input[name=start]", "2026-05-01")
    page.fill("input[name=end]", "2026-05-31")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**start=2026-05-01**")
    titles = page.locator("svg.chart rect > title").all_text_contents()
    assert titles == ["Duplicate payment: €15.00"]
    assert "(fiona)\tRefund\t1\t1" in page.inner_text("table#actions")
    # A date that is not one: the reason, on the page, and the form keeps what was typed.
    page.fill("input[name=start]", "2026-02-30")
    page.click("form.filters button[type=submit]")
    assert "From" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=start]") == "2026-02-30"
    # The tax workbook through its link.
    page.goto(f"{live_server.url}/reports/tax/?{MAY}")
    with page.expect_download() as download:
        page.click("text=Workbook (XLSX)")
    assert download.value.suggested_filename == "tax-2026-05-01-2026-05-31.xlsx"
    with open(download.value.path(), "rb") as workbook:
        assert workbook.read(2) == b"PK"  # a zip: an OOXML workbook
