"""A customer in a real browser on a phone-sized screen: open the billing link, see the
history on a clean URL, switch to French."""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.panel.tests.factories import build_shop
from billingdesk.portal.services import portal_link_create
from billingdesk.portal.tests import conftest as portal_fixtures
from tests.e2e.a11y import axe_check

pytestmark = pytest.mark.django_db(transaction=True)

# The real SMTP server and the helpdesk clients' recorded back-off, as in the service tests.
smtp = portal_fixtures.smtp
no_sleep = portal_fixtures.no_sleep


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
        # On a 375 px phone the history fits: nothing scrolls sideways.
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth).map(e => e.tagName + '.' + e.className + ' '"
            " + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"
        )
        assert width[0] <= width[1], (width, wide)
        axe_check(page)
        page.click("a[hreflang=fr]")
        page.wait_for_url("**/billing/?lang=fr")
        body = page.locator("tbody").inner_text()
        assert "Payé" in body and "50,00" in body
        assert page.locator("html").get_attribute("lang") == "fr"
        axe_check(page)
        page.click("nav.line >> text=Changer ma carte")
        assert "4242" in page.locator("main").inner_text()
        axe_check(page)
        # A link cut or changed on the way: a clear page in the language chosen, not a 500.
        refused = page.goto(f"{live_server.url}/billing/link/not-a-real-token")
        assert refused is not None and refused.status == 403
        assert "lien de facturation" in page.locator("h1").inner_text()
        axe_check(page)
    finally:
        context.close()


@pytest.fixture
def documents_flushable(transactional_db: None):
    """Issued documents refuse deletion (a database trigger), which the flush after a
    transactional test needs: lift the trigger for exactly the deletion of this test's
    documents, then put it back."""
    import importlib

    from django.db import connection

    yield
    triggers = importlib.import_module(
        "billingdesk.documents.migrations.0003_document_immutable_triggers"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            drop, create = triggers.SQLITE_DROP[:1], triggers.SQLITE_CREATE[:1]
        else:
            drop, create = triggers.POSTGRES_DROP[:1], triggers.POSTGRES_CREATE[1:]
        for sql in drop:
            cursor.execute(sql)
        # Raw deletes skip Django's cascades: first the rows that point at documents.
        cursor.execute("DELETE FROM portal_question")
        cursor.execute("DELETE FROM documents_documentemail")
        cursor.execute("DELETE FROM documents_document")
        for sql in create:
            cursor.execute(sql)


def test_customer_asks_for_a_link_then_fixes_tax_id_and_asks_a_question(
    browser: Any, live_server: Any, settings, drain_tasks, smtp, no_sleep, documents_flushable
):
    """On a phone, in French: the link by email, a VAT id that corrects the invoice, and a
    question that becomes a ticket in the helpdesk (its fake)."""
    import re

    from billingdesk.documents.models import Document
    from billingdesk.documents.tests.conftest import shop_create
    from billingdesk.gateways.sandbox.engine import SandboxEngine
    from billingdesk.gateways.sync import account_backfill
    from billingdesk.helpdesks.tests.conftest import wired

    settings.BASE_URL = live_server.url
    shop = shop_create("FR")
    engine = SandboxEngine(shop.account, webhooks=False)
    cus = engine.customer_create(email="jan@example.be", name="Jan Peeters", country="BE")
    engine.card_attach(customer_id=cus.object_id, number="4242424242424242", exp_month=1,
                       exp_year=2032)  # fmt: skip
    engine.charge_create(customer_id=cus.object_id, amount=12000, currency="EUR",
                         description="Pro plan")  # fmt: skip
    account_backfill(account=shop.account)
    drain_tasks()
    [first] = Document.objects.all()
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="fr-FR")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/billing/send-link")
        assert page.locator("h1").inner_text() == "Recevoir votre lien de facturation"
        axe_check(page)
        page.fill("input[name=email]", "pas-une-adresse")
        page.click("button[type=submit]")
        assert page.locator(".error").count() >= 1  # a form error, not a 500
        axe_check(page)
        page.fill("input[name=email]", "jan@example.be")
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "Consultez vos e-mails"
        axe_check(page)
        drain_tasks()
        # The shop emails its invoice too: the link is in the one titled for it.
        [message] = [m for m in smtp.parsed() if m["Subject"] == "Votre lien de facturation"]
        body = message.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"https?://\S+/billing/link/\S+", body).group(0)
        page.goto(link)
        assert page.url == f"{live_server.url}/billing/"
        # The VAT id: a wrong check digit is refused on the form, the right one saved.
        page.click("text=Ajouter ou modifier mon numéro de TVA")
        page.fill("input[name=country]", "BE")
        page.fill("input[name=value]", "BE0403170702")
        page.click("button[type=submit]")
        assert "chiffre de contrôle" in page.locator(".error").inner_text()
        axe_check(page)
        page.fill("input[name=value]", "BE0403170701")
        page.click("button[type=submit]")
        assert "BE0403170701" in page.locator("#tax-id-saved").inner_text()
        axe_check(page)
        drain_tasks()
        page.goto(f"{live_server.url}/billing/")
        history = page.locator("tbody").inner_text()
        credit = Document.objects.get(source_key=f"reissue-credit:{first.pk}")
        new = Document.objects.get(source_key=f"reissue:{first.pk}")
        assert credit.number in history and new.number in history
        axe_check(page)  # the shop's brand: its colours and footer
        # A question about the corrected invoice becomes a ticket.
        with wired("zendesk") as w:
            page.locator(f"a.ask[href$='document={new.pk}']").click()
            axe_check(page)
            page.fill("textarea[name=message]", "Merci, est-ce bien hors TVA ?")
            page.click("button[type=submit]")
            assert page.locator("h1").inner_text() == "Merci, nous avons reçu votre question"
            axe_check(page)
            drain_tasks()
            [ticket] = w.fake.tickets.values()
            assert new.number in ticket["subject"]
    finally:
        context.close()


def test_customer_cancels_a_subscription_on_a_phone(browser: Any, live_server: Any, settings):
    """In German at 375 px, where the merchant allows it: a reason, a confirm step, the
    subscription set to end at the period end at the sandbox, audited as the customer; every
    page passes axe."""
    from billingdesk.actions.models import ActionRequest, AuditEntry
    from billingdesk.portal.models import AccountPolicy

    settings.BASE_URL = live_server.url
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    link = portal_link_create(person=shop.customer.person)
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="de-DE")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(link)
        page.click("text=Dieses Abonnement kündigen")
        assert page.locator("h1").inner_text() == "Ein Abonnement kündigen"
        axe_check(page)
        page.click("button[type=submit]")  # no reason chosen: a form error
        assert page.locator(".error").count() == 1
        axe_check(page)
        page.select_option("select[name=reason]", "too_expensive")
        page.click("button[type=submit]")
        assert (
            "Möchten Sie dieses Abonnement wirklich kündigen?"
            in page.locator("#confirm-question").inner_text()
        )
        axe_check(page)
        # A double submit: the same confirm form posted twice (as a browser resubmitting
        # it), then clicked; every answer is the redirect to the history.
        statuses = page.evaluate(
            """async () => {
                const form = document.querySelector('main form');
                const send = () => fetch(location.href, {method: 'POST', body: new FormData(form),
                    redirect: 'manual'}).then(r => r.type === 'opaqueredirect' ? 302 : r.status);
                return [await send(), await send()];
            }"""
        )
        assert statuses == [302, 302], statuses
        page.click("#confirm-cancel")
        page.wait_for_url("**/billing/?cancelled=1")
        assert page.locator("#cancelled").is_visible()
        assert "endet am" in page.locator("#subscriptions").inner_text()
        axe_check(page)
    finally:
        context.close()
    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end
    entries = AuditEntry.objects.filter(action="cancel_subscription", result="succeeded")
    assert [e.actor_name for e in entries] == ["customer ana@example.com"]
    assert ActionRequest.objects.filter(kind="cancel_subscription").count() == 1
