"""A customer in a real browser on a phone-sized screen: open the billing link, see the
history on a clean URL, switch to French."""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.panel.tests.factories import build_shop
from billingdesk.portal.services import portal_link_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_opens_the_link_and_reads_the_history(browser: Any, live_server: Any, settings):
    settings.BASE_URL = live_server.url
    shop = build_shop()
    link = portal_link_create(person=shop.customer.person)
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        response = page.goto(link)
        assert response is not None and response.status == 200
        assert page.url == f"{live_server.url}/billing/"  # the token is gone from the bar
        assert page.locator("h1").inner_text().startswith("Billing history of Ana Lopez")
        history = page.locator("tbody").inner_text()
        for what in ("Annual plan", "Deposit", "Pro", "€50.00", "Paid", "Active"):
            assert what in history
        page.click("a[hreflang=fr]")
        page.wait_for_url("**/billing/?lang=fr")
        body = page.locator("tbody").inner_text()
        assert "Payé" in body and "50,00" in body
        assert page.locator("html").get_attribute("lang") == "fr"
        # A link cut or changed on the way: a clear page in the language chosen, not a 500.
        refused = page.goto(f"{live_server.url}/billing/link/not-a-real-token")
        assert refused is not None and refused.status == 403
        assert "lien de facturation" in page.locator("h1").inner_text()
    finally:
        context.close()
