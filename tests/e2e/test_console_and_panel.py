"""An agent's day in a real browser: sign in, search, open the panel, act, get approval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billingdesk.accounts.models import Role
from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.models import Refund
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.panel.tests.factories import Shop, agent, build_shop, limit_set

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shop(live_server: Any) -> Shop:
    return build_shop()


def open_panel(page: Any, live_server: Any, shop: Shop) -> None:
    """The panel as a 350 px helpdesk sidebar shows it."""
    page.set_viewport_size({"width": 350, "height": 900})
    page.goto(f"{live_server.url}/panel/person/{shop.customer.person_id}/")


def start_action(page: Any, row: str, action: str, step: str = "confirm") -> Any:
    """Click an action button on a row; return the row's action slot once ``step`` shows (an
    action whose fields all have defaults opens on its confirm step)."""
    row_el = page.locator(row)
    row_el.locator(f"button[data-action={action}]").click()
    slot = row_el.locator(".slot")
    slot.locator(f"[data-step={step}]").wait_for()
    return slot


def change_amount(slot: Any, amount: str) -> str:
    """Type a new amount in the confirm step and wait for its new effect."""
    field = slot.locator("input[name=amount]")
    field.fill(amount)
    field.dispatch_event("change")
    slot.locator(f"input[name=previewed_amount][value='{amount}']").wait_for(state="attached")
    return str(slot.locator(".effect").inner_text())


def test_sign_in_search_and_open_the_panel(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)

    page.fill("input[name=q]", "ANA@example.com")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".results")
    assert "email · 95%" in page.inner_text(".results")

    page.click(".results >> text=panel")
    page.wait_for_url(f"**/panel/person/{shop.customer.person_id}/")
    records = page.inner_text("#records")
    assert "matched by first record of this person · 100%" in records
    assert "EU store dashboard" in records
    charge = page.inner_text(f"[data-charge={shop.charge.gateway_id}]")
    assert "€50.00" in charge and "visa •••• 4242" in charge


def test_bad_search_gets_a_clear_message(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)

    page.fill("input[name=q]", "%%%")
    page.press("input[name=q]", "Enter")

    assert "Nothing to search for" in page.inner_text("[role=alert]")


def test_partial_refund_double_clicked_refunds_once(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    open_panel(page, live_server, shop)

    slot = start_action(page, f"[data-charge={shop.charge.gateway_id}]", "refund")
    effect = change_amount(slot, "12.50")
    assert "Refund €12.50" in effect and "€37.50 will remain refundable" in effect
    slot.locator("select[name=reason_code]").select_option("duplicate")
    slot.locator("textarea[name=reason_text]").fill("charged twice for one order")
    slot.locator("button[type=submit]").dblclick()

    page.wait_for_selector("text=Done: refund (€12.50).")
    assert Refund.objects.filter(charge=shop.charge).count() == 1
    assert SandboxObject.objects.filter(account=shop.account, kind="refund").count() == 1
    charge = page.inner_text(f"[data-charge={shop.charge.gateway_id}]")
    assert "refunded €12.50" in charge
    assert "charged twice for one order" in page.inner_text("#agent-actions")


def test_bad_amount_is_refused_and_changes_nothing(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    open_panel(page, live_server, shop)

    slot = start_action(page, f"[data-charge={shop.charge.gateway_id}]", "refund")
    field = slot.locator("input[name=amount]")
    field.fill("500")
    field.dispatch_event("change")

    assert "remains refundable" in slot.locator("[role=alert]").inner_text()
    assert not Refund.objects.exists()


def test_cancel_at_period_end(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)
    open_panel(page, live_server, shop)

    row = f"[data-subscription={shop.subscription.gateway_id}]"
    slot = start_action(page, row, "cancel_subscription")
    assert slot.locator("input[name=when][value=period_end]").is_checked()
    assert "stays active until" in slot.locator(".effect").inner_text()
    # The reason comes chosen ("requested by the customer"), no words needed: one click.
    slot.locator("button[type=submit]").click()

    page.wait_for_selector("text=Done: cancel subscription.")
    assert "ends " in page.inner_text(row)
    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end and shop.subscription.status == "active"


def test_over_limit_refund_goes_through_finance_approval(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    limit_set(Role.AGENT, 2000)
    agent("agent", "alex", PASSWORD)
    agent("finance", "fiona", PASSWORD)

    page = login("alex", PASSWORD)
    open_panel(page, live_server, shop)
    slot = start_action(page, f"[data-charge={shop.charge.gateway_id}]", "refund")
    change_amount(slot, "30")
    assert "finance must approve" in slot.locator("[data-step=confirm]").inner_text()
    slot.locator("select[name=reason_code]").select_option("goodwill")
    slot.locator("textarea[name=reason_text]").fill("parcel lost twice")
    slot.locator("button[type=submit]").click()
    page.wait_for_selector("text=sent to finance for approval")
    assert not Refund.objects.exists()

    finance = login("fiona", PASSWORD)
    finance.goto(f"{live_server.url}/console/approvals/")
    pending = finance.locator("#pending tr[data-request]")
    assert "parcel lost twice" in pending.inner_text()
    pending.locator("button[value=approve]").click()
    finance.wait_for_selector("text=approved and done")

    request = ActionRequest.objects.get()
    assert request.status == ActionRequest.Status.SUCCEEDED
    assert Refund.objects.get().amount == 3000
    entry = AuditEntry.objects.get(request=request, result="succeeded")
    assert "alex" in entry.actor_name and "fiona" in entry.approver_name


def test_read_only_agent_sees_no_action_buttons(
    shop: Shop, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("read_only", "rory", PASSWORD)
    page = login("rory", PASSWORD)
    open_panel(page, live_server, shop)

    assert page.locator(f"[data-charge={shop.charge.gateway_id}]").is_visible()
    assert page.locator("button[data-action]").count() == 0
