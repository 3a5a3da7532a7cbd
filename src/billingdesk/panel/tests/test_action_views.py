"""Actions from the panel: form, confirm with the effect, run once, errors in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk.accounts.models import Role
from billingdesk.actions.keys import action_key_issue
from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.models import Refund

from .factories import Shop, limit_set

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
    limit_set(Role.AGENT, 2000)
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
    # The charge now says so, offers no second refund, and the agent's requests list it.
    panel = agent.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert "refund of €30.00 awaiting approval" in panel
    assert 'data-awaiting="refund"' in panel
    again = agent.get(_url(shop, "form"), HX).content.decode()
    assert f"already awaiting approval (request #{pending.pk})" in again
    mine = agent.get("/console/approvals/").content.decode()
    assert "My requests" in mine and "late delivery" in mine

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
    limit_set(Role.AGENT, 100)
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

    # A genuine key issued to this user: only the role check can refuse it.
    viewer = User.objects.get(agent_profile__role="read_only")
    response = client.post(
        _url(shop, "confirm"),
        {
            "key": action_key_issue(user=viewer),
            "amount": "5",
            "reason_code": "duplicate",
            "reason_text": "x",
        },
        **HX,
    )

    body = response.content.decode()
    assert 'role="alert"' in body and "Your role is read-only" in body
    assert "key is not valid" not in body
    assert not Refund.objects.exists()
    refusal = AuditEntry.objects.get()
    assert (refusal.result, refusal.action) == ("refused", "refund")


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
    # Back where the agent was, scrolled to the refunded charge.
    assert done["Location"] == (
        f"/console/person/{shop.customer.person_id}/?focus=charge-{shop.charge.pk}"
    )
    assert Refund.objects.get().amount == 100


def test_the_second_of_two_submissions_is_told_the_refund_is_being_processed(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    from billingdesk.actions.keys import key_nonce

    client = client_as("agent", "alex")
    alex = User.objects.get(username="alex")
    key = _key(client.get(_url(shop, "form"), HX).content.decode())
    # The first submission of this form has claimed the refund and waits on the gateway.
    ActionRequest.objects.create(
        idempotency_key=key_nonce(user=alex, key=key), kind="refund", status="running",
        account=shop.account, target_kind="charge", target_id=shop.charge.gateway_id,
        params={"amount": 1000}, amount=1000, currency="EUR", requested_by=alex,
    )  # fmt: skip

    second = client.post(
        _url(shop, "confirm"),
        {"key": key, "amount": "10", "reason_code": "duplicate", "reason_text": "twice"},
        **HX,
    )

    assert second["HX-Refresh"] == "true"  # no red error in the form
    page = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    assert "is being processed" in page and "do not submit it again" in page
    assert not Refund.objects.exists()
