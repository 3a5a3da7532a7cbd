"""Actions from the panel: form, confirm with the effect, run once, errors in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from billingdesk.accounts.models import RefundLimit, Role
from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.models import Refund

from .factories import Shop

HX = {"HTTP_HX_REQUEST": "true"}


def _key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _url(shop: Shop, step: str, kind: str = "refund", target: str = "charge") -> str:
    pk = {"charge": shop.charge.pk, "subscription": shop.subscription.pk}[target]
    suffix = "" if step == "form" else f"{step}/"
    return f"/console/actions/{kind}/{target}/{pk}/{suffix}"


def test_refund_form_review_confirm_refunds_once(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")

    form = client.get(_url(shop, "form"), HX).content.decode()
    assert 'value="50.00"' in form  # everything refundable, pre-filled
    key = _key(form)

    review = client.post(_url(shop, "review"), {"key": key, "amount": "12.50"}, **HX)
    body = review.content.decode()
    assert "Refund €12.50" in body
    assert "€37.50 will remain refundable" in body
    assert f'value="{key}"' in body

    data = {"key": key, "amount": "12.50", "reason_code": "duplicate", "reason_text": "twice"}
    first = client.post(_url(shop, "confirm"), data, **HX)
    second = client.post(_url(shop, "confirm"), data, **HX)

    assert first.status_code == second.status_code == 200
    assert first["HX-Refresh"] == "true"
    assert Refund.objects.filter(charge=shop.charge).count() == 1
    shop.charge.refresh_from_db()
    assert shop.charge.amount_refunded == 1250
    panel = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert "Done: refund (€12.50)." in panel
    assert "twice" in panel  # the audit entry, in the agent actions section


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "is not an amount"),
        ("-5", "more than zero"),
        ("1.234", "at most 2 decimals"),
        ("999", "remains refundable"),
    ],
)
def test_bad_amounts_are_refused_in_plain_words_and_change_nothing(
    shop: Shop, client_as: Callable[..., Client], amount: str, message: str
) -> None:
    client = client_as("agent")
    key = _key(client.get(_url(shop, "form"), HX).content.decode())

    review = client.post(_url(shop, "review"), {"key": key, "amount": amount}, **HX)
    confirm = client.post(
        _url(shop, "confirm"),
        {"key": key, "amount": amount, "reason_code": "duplicate", "reason_text": "x"},
        **HX,
    )

    for response in (review, confirm):
        assert response.status_code == 200
        assert message in response.content.decode()
        assert 'role="alert"' in response.content.decode()
    assert not Refund.objects.exists()
    assert not ActionRequest.objects.exists()


def test_a_missing_reason_is_asked_for_and_nothing_runs(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    key = _key(client.get(_url(shop, "form"), HX).content.decode())

    response = client.post(_url(shop, "confirm"), {"key": key, "amount": "5"}, **HX)

    assert "Choose a reason" in response.content.decode()
    assert 'data-step="confirm"' in response.content.decode()
    assert not Refund.objects.exists()


def test_cancel_at_period_end(shop: Shop, client_as: Callable[..., Client]) -> None:
    client = client_as("agent")
    form = client.get(_url(shop, "form", "cancel_subscription", "subscription"), HX)
    key = _key(form.content.decode())

    review = client.post(
        _url(shop, "review", "cancel_subscription", "subscription"),
        {"key": key, "when": "period_end"},
        **HX,
    )
    assert "stays active until" in review.content.decode()
    client.post(
        _url(shop, "confirm", "cancel_subscription", "subscription"),
        {"key": key, "when": "period_end", "reason_code": "requested_by_customer",
         "reason_text": "moving to a competitor"},
        **HX,
    )  # fmt: skip

    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end
    assert shop.subscription.status == "active"


def test_over_limit_refund_waits_for_finance_then_runs(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    RefundLimit.objects.create(role=Role.AGENT, currency="EUR", max_amount=2000)
    agent = client_as("agent")
    key = _key(agent.get(_url(shop, "form"), HX).content.decode())

    review = agent.post(_url(shop, "review"), {"key": key, "amount": "30"}, **HX)
    assert "finance must approve" in review.content.decode()
    agent.post(
        _url(shop, "confirm"),
        {"key": key, "amount": "30", "reason_code": "goodwill", "reason_text": "late delivery"},
        **HX,
    )
    assert not Refund.objects.exists()
    pending = ActionRequest.objects.get()
    assert pending.status == ActionRequest.Status.PENDING_APPROVAL

    finance = client_as("finance", "fiona")
    page = finance.get("/console/approvals/").content.decode()
    assert "late delivery" in page and "€30.00" in page
    finance.post(f"/console/approvals/{pending.pk}/decide/", {"decision": "approve"})

    pending.refresh_from_db()
    assert pending.status == ActionRequest.Status.SUCCEEDED
    assert Refund.objects.get().amount == 3000
    entry = AuditEntry.objects.filter(request=pending, result="succeeded").get()
    assert entry.approver_name.startswith("Finance")


def test_deny_needs_a_reason(shop: Shop, client_as: Callable[..., Client]) -> None:
    RefundLimit.objects.create(role=Role.AGENT, currency="EUR", max_amount=100)
    agent = client_as("agent")
    key = _key(agent.get(_url(shop, "form"), HX).content.decode())
    agent.post(
        _url(shop, "confirm"),
        {"key": key, "amount": "10", "reason_code": "goodwill", "reason_text": "sorry"},
        **HX,
    )
    pending = ActionRequest.objects.get()
    finance = client_as("finance", "fiona")

    no_reason = finance.post(
        f"/console/approvals/{pending.pk}/decide/", {"decision": "deny"}, follow=True
    )
    assert "Say why" in no_reason.content.decode()
    finance.post(
        f"/console/approvals/{pending.pk}/decide/", {"decision": "deny", "reason": "abuse"}
    )

    pending.refresh_from_db()
    assert pending.status == ActionRequest.Status.DENIED
    assert not Refund.objects.exists()


def test_read_only_agents_cannot_act_even_by_posting(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("read_only")
    form = client.get(_url(shop, "form"), HX).content.decode()
    assert "read-only" in form

    response = client.post(
        _url(shop, "confirm"),
        {"key": "forged", "amount": "5", "reason_code": "duplicate", "reason_text": "x"},
        **HX,
    )

    assert 'role="alert"' in response.content.decode()
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/console/actions/explode/charge/1/",
        "/console/actions/refund/person/1/",
        "/console/actions/refund/charge/999999/",
    ],
)
def test_unknown_actions_and_targets_are_404(
    db: None, client_as: Callable[..., Client], url: str
) -> None:
    assert client_as().get(url).status_code == 404


def test_without_htmx_the_steps_are_pages(shop: Shop, client_as: Callable[..., Client]) -> None:
    client = client_as("agent")
    form = client.get(_url(shop, "form"))
    assert form.status_code == 200 and "<html" in form.content.decode()
    key = _key(form.content.decode())

    done = client.post(
        _url(shop, "confirm"),
        {"key": key, "amount": "1", "reason_code": "duplicate", "reason_text": "x",
         "back": f"/console/person/{shop.customer.person_id}/"},
    )  # fmt: skip

    assert done.status_code == 302
    assert done["Location"] == f"/console/person/{shop.customer.person_id}/"
    assert Refund.objects.get().amount == 100
