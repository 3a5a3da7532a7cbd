"""The panel at 350 px as a support agent uses it on the five tickets: keyboard, one-confirm
actions, duplicates, what a charge was for, tax ids, the result in view, self-updating."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from billingdesk.billing.models import Charge, Refund, TaxId
from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import T0, Shop, agent, build_shop

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shop(live_server: Any) -> Shop:
    return build_shop()


@pytest.fixture
def panel(shop: Shop, live_server: Any, login: Callable[[str, str], Any]) -> Any:
    """An agent's panel on Ana, as a 350 px helpdesk sidebar shows it."""
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    page.set_viewport_size({"width": 350, "height": 700})
    page.goto(f"{live_server.url}/panel/person/{shop.customer.person_id}/")
    return page


def active(page: Any) -> dict[str, str]:
    """What has the keyboard focus."""
    return dict(
        page.evaluate(
            "() => { const e = document.activeElement; return {tag: e.tagName, "
            "name: e.getAttribute('name') || '', action: e.dataset.action || '', "
            "cls: e.className || ''}; }"
        )
    )


def test_keyboard_focus_escape_enter_and_slash(panel: Any, shop: Shop) -> None:
    charge = panel.locator(f"[data-charge={shop.charge.gateway_id}]")
    charge.locator("button[data-action=refund]").click()
    charge.locator("[data-step=confirm]").wait_for()
    assert active(panel) == {"tag": "INPUT", "name": "amount", "action": "", "cls": ""}

    panel.keyboard.press("Escape")
    assert charge.locator(".slot .action").count() == 0
    assert active(panel)["action"] == "refund"  # back on the button that opened it

    panel.keyboard.press("/")
    assert active(panel)["name"] == "q"  # the search within the person's charges
    panel.keyboard.press("Escape")
    panel.locator("h1").click()

    # Enter submits the step from wherever the focus is in it (here the reason list).
    sub = panel.locator(f"[data-subscription={shop.subscription.gateway_id}]")
    sub.locator("button[data-action=cancel_subscription]").click()
    sub.locator("[data-step=confirm]").wait_for()
    assert active(panel)["name"] == "when"
    panel.keyboard.press("Tab")
    assert active(panel)["name"] == "reason_code"
    panel.keyboard.press("Enter")
    panel.wait_for_selector("text=Done: cancel subscription.")
    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end


def test_console_search_shortcut(shop: Shop, login: Callable[[str, str], Any]) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    page.locator("h1").click()  # away from the search box
    assert active(page)["name"] != "q"

    page.keyboard.press("/")
    assert active(page)["name"] == "q"
    page.keyboard.type("ana@example.com")
    page.keyboard.press("Enter")
    page.wait_for_selector(".results")


def test_refund_duplicate_in_two_clicks_and_the_result_stays_in_view(
    panel: Any, shop: Shop, live_server: Any
) -> None:
    engine = SandboxEngine(shop.account, webhooks=False)
    again = engine.charge_create(
        customer_id=shop.customer.gateway_id, amount=5000, currency="EUR", description="Annual"
    )
    account_backfill(account=shop.account)
    twin = Charge.objects.get(account=shop.account, gateway_id=again.object_id)
    panel.reload()

    assert panel.locator("[data-duplicate-of]").count() == 2
    row = panel.locator(f"[data-charge={twin.gateway_id}]")
    row.locator("button[data-action=refund_duplicate]").click()  # 1
    step = row.locator("[data-step=confirm]")
    step.wait_for()
    assert "Refund €50.00" in step.locator(".effect").inner_text()
    assert step.locator("select[name=reason_code]").input_value() == "duplicate"
    step.locator("button[type=submit]").click()  # 2

    panel.wait_for_selector(f"#row-charge-{twin.pk}.changed .messages")
    assert Refund.objects.get().charge_id == twin.pk
    changed = panel.locator(f"#row-charge-{twin.pk}")
    assert "Done: refund (€50.00)." in changed.inner_text()
    assert changed.is_visible() and "refunded €50.00" in changed.inner_text()
    in_view = panel.evaluate(
        "(id) => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }",
        f"row-charge-{twin.pk}",
    )
    assert in_view
    assert panel.evaluate("() => document.activeElement.classList.contains('messages')")
    assert "focus=" not in panel.url  # a reload does not scroll there again


def test_what_a_charge_was_for_and_older_charges(panel: Any, shop: Shop, live_server: Any) -> None:
    objects: list[gw.GatewayObject] = []
    for n in range(12):
        at = T0 - timedelta(days=30 * (12 - n))  # ch_old_11 the newest of them
        objects += [
            gw.GwInvoice(
                id=f"in_old_{n}", updated=at, created=at, customer_id=shop.customer.gateway_id,
                subscription_id=shop.subscription.gateway_id, status=gw.InvoiceStatus.PAID,
                currency="EUR", total=4500, amount_paid=4500, number=f"INV-OLD-{n}",
                period_start=at, period_end=at + timedelta(days=30),
            ),
            gw.GwCharge(
                id=f"ch_old_{n}", updated=at, created=at, customer_id=shop.customer.gateway_id,
                amount=4500, currency="EUR", amount_captured=4500,
                status=gw.ChargeStatus.CAPTURED, invoice_id=f"in_old_{n}",
                card_brand="visa", card_last4="4242", order_id=f"ORD-OLD-{n}",
            ),
        ]  # fmt: skip
    mirror_upsert(account=shop.account, objects=objects)
    panel.reload()

    paid_for = panel.locator("[data-charge=ch_old_11] [data-paid-for]")
    assert paid_for.is_visible()
    assert " ".join(paid_for.inner_text().split()) == (
        "for Pro Jan 30, 2026 \N{EN DASH} Mar 1, 2026 invoice INV-OLD-11"
    )
    assert panel.locator("[data-charge=ch_old_0]").count() == 0
    panel.locator("button[data-older]").click()
    panel.locator("[data-charge=ch_old_0]").wait_for()
    assert "INV-OLD-0" in panel.locator("[data-charge=ch_old_0]").inner_text()

    search = panel.locator("#charges input[name=q]")
    search.fill("ORD-OLD-3")
    search.press("Enter")
    panel.wait_for_function("() => document.querySelectorAll('#charge-list [data-charge]')"
                            ".length === 1")  # fmt: skip
    assert panel.locator("#charge-list [data-charge=ch_old_3]").is_visible()


def test_add_a_vat_number_warns_about_ours_and_says_which_was_added(panel: Any, shop: Shop) -> None:
    from billingdesk.documents.models import LegalEntity

    LegalEntity.objects.create(
        name="Acme France", address_line1="1 rue de Rivoli", city="Paris", country="FR",
        vat_number="FR40303265045",
    )  # fmt: skip
    row = panel.locator(f"[data-customer={shop.customer.gateway_id}]")
    row.locator("button[data-action=add_tax_id]").click()
    row.locator("[data-step=form]").wait_for()
    assert row.locator("select[name=tax_type]").input_value() == "eu_vat"
    assert active(panel)["name"] == "tax_type"
    panel.keyboard.press("Tab")
    panel.keyboard.type("FR40303265045")
    panel.keyboard.press("Enter")
    warning = row.locator("[data-warning]")
    warning.wait_for()
    assert "Acme France, the seller" in warning.inner_text()

    panel.keyboard.press("Escape")
    row.locator("button[data-action=add_tax_id]").click()
    row.locator("[data-step=form]").wait_for()
    row.locator("input[name=value]").fill("FR83404833048")
    row.locator("input[name=value]").press("Enter")
    row.locator("[data-step=confirm]").wait_for()
    assert row.locator("[data-warning]").count() == 0
    row.locator("[data-step=confirm] button[type=submit]").click()

    panel.wait_for_selector("text=EU VAT number FR83404833048 added")
    assert TaxId.objects.filter(value="FR83404833048").exists()
    assert "FR83404833048" in panel.locator("#tax-ids").inner_text()


def test_panel_updates_itself_when_a_webhook_changes_what_it_shows(
    panel: Any, shop: Shop, settings: Any
) -> None:
    settings.PANEL_POLL_SECONDS = 1
    panel.reload()
    row = panel.locator(f"[data-charge={shop.charge.gateway_id}]")
    assert "refunded" not in row.inner_text()

    mirror_upsert(
        account=shop.account,
        objects=[
            gw.GwRefund(
                id="re_dashboard", updated=T0, created=T0, charge_id=shop.charge.gateway_id,
                amount=700, currency="EUR", status=gw.RefundStatus.SUCCEEDED,
            )
        ],
    )  # fmt: skip

    panel.wait_for_selector("#refunds [data-refund=re_dashboard]")
