"""Limits on money-moving actions fail closed, add up per record and per day, and bound
approvers."""

from __future__ import annotations

import pytest

from billingdesk.accounts.models import RefundLimit, Role
from billingdesk.accounts.selectors import money_limit
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.services import (
    action_key_issue,
    action_preview,
    action_submit,
    actions_available,
    approval_decide,
)
from billingdesk.billing.models import Charge
from billingdesk.core.errors import NotAllowed
from billingdesk.panel.tests.factories import Shop, limit_set

from .test_actions import agent, gateway_refunds, refund

Status = ActionRequest.Status


def test_no_limit_row_means_approval_not_freedom(shop: Shop) -> None:
    RefundLimit.objects.all().delete()
    ana = agent("ana", Role.AGENT)
    fin = agent("fin", Role.FINANCE)
    boss = agent("boss", Role.ADMIN)

    assert money_limit(role=Role.AGENT, kind="refund", currency="EUR").max_amount == 0
    request = refund(ana, shop.charge, 1)  # even one cent
    assert request.status == Status.PENDING_APPROVAL
    assert "No refund limit is set" in AuditEntry.objects.get(request=request).detail
    # Finance has no limit row either: it may not approve it...
    with pytest.raises(NotAllowed, match="cannot approve"):
        approval_decide(user=fin, request_id=request.pk, approve=True)
    assert ActionRequest.objects.get(pk=request.pk).status == Status.PENDING_APPROVAL
    assert AuditEntry.objects.filter(action="refund.approval", result="refused").count() == 1
    # ...an admin (documented default: no limit) may.
    assert approval_decide(user=boss, request_id=request.pk, approve=True).status == (
        Status.SUCCEEDED
    )
    assert gateway_refunds(shop) == 1


@pytest.mark.parametrize(
    ("kind", "target", "params"),
    [
        (ActionKind.CAPTURE, "hold", {"amount": 8000}),
        (ActionKind.AUTHORIZE, "customer", {"amount": 25000, "description": "Deposit"}),
        (ActionKind.PAYMENT_REQUEST, "customer", {"amount": 60000, "description": "Balance"}),
    ],
)
def test_every_money_moving_action_has_a_limit(
    shop: Shop, kind: ActionKind, target: str, params: dict[str, object]
) -> None:
    ana = agent("ana", Role.AGENT)
    limit_set(Role.AGENT, 1000, kind=kind.value)
    row = getattr(shop, target)

    preview = action_preview(user=ana, kind=kind, target=row, params=params)
    assert preview.allowed and preview.needs_approval
    request = action_submit(
        user=ana, kind=kind, target=row, params=params, reason_code="requested_by_customer",
        reason_text="asked", idempotency_key=action_key_issue(user=ana),
    )  # fmt: skip
    assert request.status == Status.PENDING_APPROVAL


def test_refunds_add_up_per_charge_whoever_makes_them(shop: Shop) -> None:
    """Each refund within a 30 limit, together above it: the third needs approval."""
    limit_set(Role.AGENT, 3000)
    ana = agent("ana", Role.AGENT)
    bob = agent("bob", Role.AGENT)
    assert refund(ana, shop.charge, 1500).status == Status.SUCCEEDED
    assert refund(ana, shop.charge, 1000).status == Status.SUCCEEDED

    third = refund(bob, shop.charge, 1000)  # 35.00 in all on this charge

    assert third.status == Status.PENDING_APPROVAL
    detail = AuditEntry.objects.get(request=third).detail
    assert "€25.00 already moved on this charge" in detail
    assert "above your limit of €30.00" in detail
    assert gateway_refunds(shop) == 2


def test_a_daily_limit_adds_up_across_charges(shop: Shop) -> None:
    from billingdesk.panel.tests.factories import build_shop

    other = build_shop("Second store")
    limit_set(Role.AGENT, 5000, daily=6000)
    ana = agent("ana", Role.AGENT)
    assert refund(ana, shop.charge, 4000).status == Status.SUCCEEDED

    request = refund(ana, other.charge, 2500)

    assert request.status == Status.PENDING_APPROVAL
    assert "daily limit of €60.00" in AuditEntry.objects.get(request=request).detail


def test_an_approver_is_bounded_by_their_own_limit(shop: Shop) -> None:
    """A finance user with a 10 EUR limit cannot approve 30 EUR."""
    limit_set(Role.AGENT, 500)
    limit_set(Role.FINANCE, 1000)
    ana = agent("ana", Role.AGENT)
    fin = agent("fin", Role.FINANCE)
    big = agent("big", Role.FINANCE)
    request = refund(ana, shop.charge, 3000)

    with pytest.raises(NotAllowed, match=r"cannot approve this: €30\.00 is above your limit"):
        approval_decide(user=fin, request_id=request.pk, approve=True)
    assert gateway_refunds(shop) == 0
    assert ActionRequest.objects.get(pk=request.pk).status == Status.PENDING_APPROVAL

    limit_set(Role.FINANCE, 100_000)
    assert approval_decide(user=big, request_id=request.pk, approve=True).status == (
        Status.SUCCEEDED
    )


def test_a_request_awaiting_approval_is_shown_and_cannot_be_sent_twice(shop: Shop) -> None:
    limit_set(Role.AGENT, 500)
    ana = agent("ana", Role.AGENT)
    first = refund(ana, shop.charge, 3000)
    assert first.status == Status.PENDING_APPROVAL

    assert ActionKind.REFUND not in actions_available(user=ana, target=shop.charge)
    assert shop.charge.awaiting == [("refund", "refund of €30.00 awaiting approval")]  # type: ignore[attr-defined]
    preview = action_preview(user=ana, kind=ActionKind.REFUND, target=shop.charge, params={})
    assert not preview.allowed and "awaiting approval" in preview.refusal
    with pytest.raises(NotAllowed, match=f"already awaiting approval \\(request #{first.pk}\\)"):
        refund(ana, shop.charge, 3000)  # a new form, the same request
    assert ActionRequest.objects.count() == 1
    assert AuditEntry.objects.filter(result="refused").count() == 1


def test_an_approval_that_can_no_longer_run_says_why(shop: Shop) -> None:
    limit_set(Role.AGENT, 2000)
    ana = agent("ana", Role.AGENT)
    fin = agent("fin", Role.FINANCE)
    request = refund(ana, shop.charge, 4000)
    # Meanwhile 20 of it is refunded from the gateway's dashboard (a webhook brought it):
    # 30 remain, 40 asked.
    Charge.objects.filter(pk=shop.charge.pk).update(amount_refunded=2000)

    with pytest.raises(Exception, match=r"Only €30\.00 remains refundable"):
        approval_decide(user=fin, request_id=request.pk, approve=True)
    request.refresh_from_db()
    assert request.status == Status.FAILED and "remains refundable" in request.error
    with pytest.raises(Exception, match=r"already failed: Only €30\.00 remains"):
        approval_decide(user=fin, request_id=request.pk, approve=True)
