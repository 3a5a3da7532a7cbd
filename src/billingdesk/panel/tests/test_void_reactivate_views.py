"""Voiding an open invoice and reactivating a subscription from the panel (sandbox gateway):
the button on the row, the confirm step with its effect, one run for a double submit, and
the refusals in plain words for a paid invoice and an ended subscription."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk.actions.keys import action_key_issue
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.billing.models import Invoice, Subscription
from billingdesk.gateways.sandbox.engine import Line, SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxEvent, SandboxObject
from billingdesk.gateways.sync import account_backfill

from .factories import Shop

HX = {"HTTP_HX_REQUEST": "true"}
REASON = {"reason_code": "billing_error", "reason_text": "sent by mistake"}


def _key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _forged_key() -> str:
    """A valid form key, as a page of the agent's would carry (the refused form has none)."""
    return action_key_issue(user=User.objects.get(username="agent-user"))


def _url(kind: str, target: str, pk: int, step: str = "") -> str:
    return f"/console/actions/{kind}/{target}/{pk}/" + (f"{step}/" if step else "")


def _open_invoice(shop: Shop) -> Invoice:
    engine = SandboxEngine(shop.account, webhooks=False)
    invoice = engine.invoice_create(
        customer_id=shop.customer.gateway_id, currency="EUR", lines=[Line("Setup fee", 3000)]
    )
    engine.invoice_finalize(invoice_id=invoice.object_id)
    account_backfill(account=shop.account)
    return Invoice.objects.get(account=shop.account, gateway_id=invoice.object_id)


def test_an_open_invoice_is_voided_once_for_a_double_submit(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    invoice = _open_invoice(shop)
    client = client_as("agent")
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url("void_invoice", "invoice", invoice.pk) in panel

    # Nothing to type: the button opens the confirm step with the effect at once.
    form = client.get(_url("void_invoice", "invoice", invoice.pk), HX).content.decode()
    assert (
        f"The invoice {invoice.number} (€30.00 due) is voided at Sandbox; the customer owes "
        "nothing on it."
    ) in form
    assert 'data-step="confirm"' in form
    data = {"key": _key(form), **REASON}
    first = client.post(_url("void_invoice", "invoice", invoice.pk, "confirm"), data, **HX)
    second = client.post(_url("void_invoice", "invoice", invoice.pk, "confirm"), data, **HX)

    assert first.status_code == second.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert SandboxObject.objects.get(object_id=invoice.gateway_id).data["status"] == "void"
    assert SandboxEvent.objects.filter(type="invoice.voided").count() == 1
    done = ActionRequest.objects.get(kind=ActionKind.VOID_INVOICE)
    assert (done.status, done.reason_code) == ("succeeded", "billing_error")
    assert (
        AuditEntry.objects.filter(action=ActionKind.VOID_INVOICE, result="succeeded").count() == 1
    )
    # Voided, it is not offered again.
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url("void_invoice", "invoice", invoice.pk) not in panel


def test_a_paid_invoice_is_refused_and_nothing_changes(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    paid = Invoice.objects.get(account=shop.account, subscription=shop.subscription)
    assert paid.status == "paid"
    client = client_as("agent")
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url("void_invoice", "invoice", paid.pk) not in panel

    form = client.get(_url("void_invoice", "invoice", paid.pk), HX).content.decode()
    assert "A paid invoice cannot be voided: refund its payment instead." in form
    forced = client.post(
        _url("void_invoice", "invoice", paid.pk, "confirm"), {"key": _forged_key(), **REASON}, **HX
    )
    assert forced.status_code == 200
    assert "A paid invoice cannot be voided" in forced.content.decode()
    paid.refresh_from_db()
    assert paid.status == "paid"
    assert SandboxObject.objects.get(object_id=paid.gateway_id).data["status"] == "paid"
    assert not ActionRequest.objects.filter(kind=ActionKind.VOID_INVOICE).exists()


def test_a_subscription_ending_at_period_end_is_reactivated_once(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    sub = shop.subscription
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url("reactivate_subscription", "subscription", sub.pk) not in panel  # not ending

    engine = SandboxEngine(shop.account, webhooks=False)
    engine.subscription_cancel(subscription_id=sub.gateway_id, at_period_end=True)
    account_backfill(account=shop.account)
    sub.refresh_from_db()
    assert sub.cancel_at_period_end
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert _url("reactivate_subscription", "subscription", sub.pk) in panel

    form = client.get(_url("reactivate_subscription", "subscription", sub.pk), HX)
    body = form.content.decode()
    assert "Pro is reactivated at Sandbox: it no longer ends on" in body
    assert "Renewals resume" in body
    data = {"key": _key(body), "reason_code": "requested_by_customer", "reason_text": ""}
    url = _url("reactivate_subscription", "subscription", sub.pk, "confirm")
    client.post(url, data, **HX)
    client.post(url, data, **HX)

    sub.refresh_from_db()
    assert (sub.status, sub.cancel_at_period_end) == ("active", False)
    assert SandboxObject.objects.get(object_id=sub.gateway_id).data["cancel_at_period_end"] is False
    assert ActionRequest.objects.filter(kind=ActionKind.REACTIVATE_SUBSCRIPTION).count() == 1


def test_an_ended_subscription_cannot_be_reactivated(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    engine = SandboxEngine(shop.account, webhooks=False)
    engine.subscription_cancel(subscription_id=shop.subscription.gateway_id, at_period_end=False)
    account_backfill(account=shop.account)
    sub = Subscription.objects.get(pk=shop.subscription.pk)
    assert sub.status == "canceled"
    client = client_as("agent")

    form = client.get(_url("reactivate_subscription", "subscription", sub.pk), HX)
    body = form.content.decode()
    assert "This subscription has already ended: it cannot be reactivated." in body
    client.post(
        _url("reactivate_subscription", "subscription", sub.pk, "confirm"),
        {"key": _forged_key(), "reason_code": "requested_by_customer"},
        **HX,
    )
    assert not ActionRequest.objects.filter(kind=ActionKind.REACTIVATE_SUBSCRIPTION).exists()
    assert SandboxObject.objects.get(object_id=sub.gateway_id).data["status"] == "canceled"


@pytest.mark.parametrize(
    ("language", "void_line", "reactivate_line", "button"),
    [
        ("fr", "est annulée chez Sandbox", "est réactivé chez Sandbox", "Réactiver"),
        ("es", "se anula en Sandbox", "se reactiva en Sandbox", "Reactivar"),
        ("de", "wird bei Sandbox storniert", "wird bei Sandbox reaktiviert", "Reaktivieren"),
    ],
)
def test_the_confirm_steps_and_buttons_are_translated(
    shop: Shop,
    client_as: Callable[..., Client],
    language: str,
    void_line: str,
    reactivate_line: str,
    button: str,
) -> None:
    invoice = _open_invoice(shop)
    engine = SandboxEngine(shop.account, webhooks=False)
    engine.subscription_cancel(subscription_id=shop.subscription.gateway_id, at_period_end=True)
    account_backfill(account=shop.account)
    client = client_as("agent")
    lang = {"HTTP_ACCEPT_LANGUAGE": language}

    void = client.get(_url("void_invoice", "invoice", invoice.pk), **HX, **lang).content.decode()
    back = client.get(
        _url("reactivate_subscription", "subscription", shop.subscription.pk), **HX, **lang
    ).content.decode()
    panel = client.get(f"/panel/person/{shop.customer.person_id}/", **lang).content.decode()

    assert void_line in void and "owes nothing" not in void
    assert reactivate_line in back and "Renewals resume" not in back
    assert button in panel and ">Reactivate<" not in panel


def test_the_sandbox_cancel_form_offers_no_refund_and_refuses_a_forged_one(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    url = _url("cancel_subscription", "subscription", shop.subscription.pk)
    form = client.get(url, HX).content.decode()
    assert "now_refund" not in form
    review = client.post(f"{url}review/", {"key": _forged_key(), "when": "now_refund_full"}, **HX)
    assert "Sandbox cannot refund while cancelling" in review.content.decode()
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
