"""What an agent sees on the console's own pages, in a real browser (issue 20 #3, #5, #7,
#9, #12): the lists, the narrowed search, the person page at 350 px, the documents table,
the admin's charge list at 1280 px and the styled error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk import panel
from billingdesk.billing.models import Charge
from billingdesk.core.labels import label
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.panel.tests.factories import Shop, agent, build_shop

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shop(live_server: Any) -> Shop:
    return build_shop()


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


_WIDER = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               && !(e.parentElement && e.parentElement.closest('.table-wrap')))
  .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))"""


def _wider_than_screen(page: Any) -> list[str]:
    """The elements sticking out on the right (outside the tables' own scrolling boxes)."""
    sizes = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth,"
        " document.documentElement.clientWidth]"
    )
    return [str(sizes), *page.evaluate(_WIDER)]


# How many lines a cell's text takes.
_LINES = """el => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size }"""


def test_the_lists_filter_and_show_plain_words(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("read_only", "vera", PASSWORD)
    page = login("vera", PASSWORD)

    page.click("header >> text=Lists")
    page.wait_for_url("**/console/lists/")
    table = page.inner_text("table.list")
    assert "Authorised, not captured" in table and "Paid" in table
    assert "authorized" not in table and "captured" not in table.replace("not captured", "")

    page.select_option("select[name=status]", "authorized")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**status=authorized**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "Deposit" in rows.inner_text()

    page.click("nav.tabs >> text=Subscriptions")
    assert "pro-monthly" in page.inner_text("table.list")

    page.goto(f"{live_server.url}/console/lists/charges/?currency=EUR&min=ten")
    assert "is not an amount" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=min]") == "ten"  # the form keeps what was typed


def test_search_narrowed_in_more_filters(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)

    page.fill("input[name=q]", "ana")
    page.click("text=More filters")
    page.select_option("select[name=status]", "past_due")
    page.click("form.search button[type=submit]")

    assert "0 persons found" in page.inner_text("main")
    page.select_option("select[name=status]", "active")
    page.click("form.search button[type=submit]")
    assert "1 person found" in page.inner_text("main")
    assert "Ana Lopez" in page.inner_text(".results")


def test_the_person_page_fits_350_px_and_its_charges_page_pages(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    page.set_viewport_size({"width": 350, "height": 800})

    page.goto(f"{live_server.url}/console/person/{shop.customer.person_id}/")
    assert "Ana Lopez" in page.inner_text("h1")
    assert _no_sideways_scroll(page), _wider_than_screen(page)

    page.click("text=All charges, filtered and paged")
    charges = Charge.objects.filter(customer__person_id=shop.customer.person_id).count()
    assert charges >= 2 and page.locator("table.list tbody tr").count() == charges
    assert _no_sideways_scroll(page)  # the table scrolls inside its box, not the page


# Issued documents cannot be deleted (database triggers), so this test cannot flush a live
# server's database: the page is rendered by Django in a rolled-back transaction and shown
# to the browser with the console's real stylesheet.
@pytest.mark.django_db
def test_documents_dates_stay_on_one_line_and_credit_notes_say_what_they_correct(
    browser: Any, drain_tasks: Callable[[], None]
) -> None:
    docs = shop_create("DE")
    charge = docs.pay(amount=1190, country="DE")
    drain_tasks()
    docs.refund(charge, 500)
    drain_tasks()
    receipt = Document.objects.filter(charge=charge).order_by("id").first()
    assert receipt is not None
    client = Client()
    client.force_login(agent("agent", "alex", PASSWORD))
    html = client.get(f"/documents/persons/{receipt.person_id}/").content.decode()
    css = (Path(panel.__file__).parent / "static" / "panel" / "panel.css").read_text()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_content(html.replace("</head>", f"<style>{css}</style></head>"))

        assert page.locator("header.topbar").count() == 1  # the console's look and navigation
        table = page.inner_text("table.documents")
        # "corrects invoice RE2026-000001" (or receipt): what it corrects, in words
        assert f"corrects {label(receipt.kind).lower()} {receipt.number}" in table
        dates = page.locator("table.documents tbody td:nth-child(3)").all()
        assert dates and all(cell.evaluate(_LINES) == 1 for cell in dates)
        page.set_viewport_size({"width": 350, "height": 800})
        assert _no_sideways_scroll(page)
    finally:
        context.close()


def test_the_admin_charge_list_is_in_date_order_and_fits_1280_px(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    User.objects.create_superuser("root", "root@example.com", PASSWORD)
    older = Charge.objects.get(pk=shop.hold.pk)
    # The hold was made after the paid charge; date it a year earlier: it must list last.
    Charge.objects.filter(pk=older.pk).update(
        gateway_created_at=shop.charge.gateway_created_at - timedelta(days=365)
    )
    page = login("root", PASSWORD)

    page.goto(f"{live_server.url}/admin/billing/charge/")
    ids = page.locator("#result_list tbody td.field-gateway_id").all_inner_texts()
    by_date = Charge.objects.order_by("-gateway_created_at", "-id")
    assert ids == list(by_date.values_list("gateway_id", flat=True))
    assert ids[-1] == shop.hold.gateway_id
    account_cell = page.locator("#result_list tbody td.field-account").first
    box = account_cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280  # the last column is on screen


def test_error_pages_are_styled_and_the_favicon_loads(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)

    response = page.goto(f"{live_server.url}/console/person/987654/")
    assert response.status == 404
    assert "Page not found" in page.inner_text("h1")
    page.click("text=Search the console")
    page.wait_for_url("**/console/")

    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
