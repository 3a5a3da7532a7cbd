"""One-click actions against the sandbox gateway: run once, refused clearly, audited."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.audit import audit_verify
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.services import (
    action_key_issue,
    action_preview,
    action_submit,
    actions_available,
    approval_decide,
)
from billingdesk.billing.models import Charge, Refund
from billingdesk.core.errors import AmountTooLarge, CardDeclined, InvalidRequest, NotAllowed
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.panel.tests.factories import Shop, build_shop, limit_set


def agent(name: str, role: Role) -> User:
    user = User.objects.create_user(name, password="pw", first_name=name.title())
    AgentProfile.objects.create(user=user, role=role)
    return user


def refund(
    user: User,
    charge: Charge,
    amount: int | None,
    *,
    key: str | None = None,
    reason: str = "duplicate",
    text: str = "charged twice",
) -> ActionRequest:
    return action_submit(
        user=user,
        kind=ActionKind.REFUND,
        target=charge,
        params={"amount": amount},
        reason_code=reason,
        reason_text=text,
        idempotency_key=key or action_key_issue(user=user),
        ip="127.0.0.1",
    )


def gateway_refunds(shop: Shop) -> int:
    """Refunds as the gateway itself (not our mirror) knows them."""
    return SandboxObject.objects.filter(account=shop.account, kind="refund").count()


def test_partial_refund_runs_mirrors_and_audits(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)

    request = refund(ana, shop.charge, 1500)

    assert request.status == ActionRequest.Status.SUCCEEDED
    shop.charge.refresh_from_db()
    assert (shop.charge.amount_refunded, shop.charge.status) == (1500, "partially_refunded")
    assert Refund.objects.get(charge=shop.charge).amount == 1500
    entry = AuditEntry.objects.get(request=request)
    assert (entry.action, entry.result, entry.amount, entry.currency) == (
        "refund",
        "succeeded",
        1500,
        "EUR",
    )
    assert entry.actor == ana and entry.reason_code == "duplicate"
    assert entry.reason_text == "charged twice" and entry.ip == "127.0.0.1"
    assert entry.person_id == shop.customer.person_id
    assert audit_verify() is None


def test_the_same_form_submitted_twice_refunds_once(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    key = action_key_issue(user=ana)

    first = refund(ana, shop.charge, 1000, key=key)
    second = refund(ana, shop.charge, 1000, key=key)

    assert first.pk == second.pk
    assert gateway_refunds(shop) == 1
    shop.charge.refresh_from_db()
    assert shop.charge.amount_refunded == 1000
    assert AuditEntry.objects.filter(action="refund").count() == 1


def test_more_than_remains_is_refused_and_nothing_changes(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    refund(ana, shop.charge, 4000)
    shop.charge.refresh_from_db()

    with pytest.raises(AmountTooLarge, match=r"Only €10\.00 remains refundable"):
        refund(ana, shop.charge, 1001)

    shop.charge.refresh_from_db()
    assert shop.charge.amount_refunded == 4000
    assert gateway_refunds(shop) == 1
    assert ActionRequest.objects.count() == 1
    over = AuditEntry.objects.get(result="refused")
    assert (over.amount, over.actor) == (1001, ana) and "remains refundable" in over.detail


def test_a_form_shown_before_another_refund_is_rechecked_under_lock(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    stale = Charge.objects.get(pk=shop.charge.pk)  # the page the agent still has open
    refund(ana, shop.charge, 4000)

    with pytest.raises(AmountTooLarge, match=r"Only €10\.00 remains refundable"):
        refund(ana, stale, 1001)

    assert gateway_refunds(shop) == 1
    # Refused at the claim, under the lock: no request row, but the refusal is audited.
    assert not ActionRequest.objects.filter(amount=1001).exists()
    late = AuditEntry.objects.get(amount=1001)
    assert (late.result, late.actor, late.target_id) == ("refused", ana, shop.charge.gateway_id)
    assert "AmountTooLarge" in late.detail


@pytest.mark.parametrize(
    ("amount", "message"),
    [(-5, "more than zero"), (0, "more than zero"), ("ten", "whole number")],
)
def test_bad_amounts_get_clear_errors(shop: Shop, amount: object, message: str) -> None:
    ana = agent("ana", Role.AGENT)
    with pytest.raises(InvalidRequest, match=message):
        refund(ana, shop.charge, amount)  # type: ignore[arg-type]
    assert not ActionRequest.objects.exists() and gateway_refunds(shop) == 0


def test_a_reason_is_required(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    with pytest.raises(InvalidRequest, match="Choose a reason"):
        refund(ana, shop.charge, 100, reason="")
    with pytest.raises(InvalidRequest, match="Describe the reason"):
        refund(ana, shop.charge, 100, reason="other", text="  ")
    assert gateway_refunds(shop) == 0


def test_a_reason_code_alone_suffices_unless_an_admin_requires_words(
    shop: Shop, settings: Any
) -> None:
    ana = agent("ana", Role.AGENT)
    refund(ana, shop.charge, 100, reason="duplicate", text="")
    assert gateway_refunds(shop) == 1

    settings.ACTION_REASON_TEXT_REQUIRED = {"refund"}
    with pytest.raises(InvalidRequest, match="Describe the reason"):
        refund(ana, shop.charge, 100, reason="duplicate", text="  ")
    assert gateway_refunds(shop) == 1


def test_forged_or_borrowed_keys_are_refused(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    bob = agent("bob", Role.AGENT)
    with pytest.raises(InvalidRequest, match="not valid"):
        refund(ana, shop.charge, 100, key="made-up")
    with pytest.raises(InvalidRequest, match="not issued to you"):
        refund(ana, shop.charge, 100, key=action_key_issue(user=bob))
    assert gateway_refunds(shop) == 0


def test_a_key_used_for_one_action_cannot_run_another(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    key = action_key_issue(user=ana)
    refund(ana, shop.charge, 100, key=key)
    with pytest.raises(InvalidRequest, match="another action"):
        action_submit(
            user=ana,
            kind=ActionKind.VOID,
            target=shop.hold,
            params={},
            reason_code="duplicate",
            reason_text="x",
            idempotency_key=key,
        )


def test_read_only_agents_see_but_cannot_act(shop: Shop) -> None:
    viewer = agent("viewer", Role.READ_ONLY)
    assert actions_available(user=viewer, target=shop.charge) == []
    with pytest.raises(NotAllowed, match="read-only"):
        refund(viewer, shop.charge, 100)
    assert gateway_refunds(shop) == 0
    refusal = AuditEntry.objects.get()  # every refusal is audited, this one too
    assert (refusal.actor, refusal.action, refusal.result) == (viewer, "refund", "refused")
    assert "read-only" in refusal.detail


def test_actions_offered_follow_the_record_state(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    assert actions_available(user=ana, target=shop.charge) == [ActionKind.REFUND]
    assert set(actions_available(user=ana, target=shop.hold)) == {
        ActionKind.CAPTURE,
        ActionKind.VOID,
    }
    assert actions_available(user=ana, target=shop.subscription) == [
        ActionKind.CANCEL_SUBSCRIPTION,
        ActionKind.APPLY_COUPON,
        ActionKind.PAUSE_SUBSCRIPTION,
    ]
    refund(ana, shop.charge, None)  # everything: nothing left to refund
    shop.charge.refresh_from_db()
    assert shop.charge.status == "refunded"
    assert actions_available(user=ana, target=shop.charge) == []


def test_preview_shows_the_effect_before_running(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    preview = action_preview(
        user=ana, kind=ActionKind.REFUND, target=shop.charge, params={"amount": 1250}
    )
    assert preview.allowed and not preview.needs_approval
    assert preview.lines[0].startswith("Refund €12.50 to visa •••• 4242")
    assert "€37.50 will remain refundable" in preview.lines[1]
    cancel = action_preview(
        user=ana,
        kind=ActionKind.CANCEL_SUBSCRIPTION,
        target=shop.subscription,
        params={"at_period_end": True},
    )
    assert "stays active until" in cancel.lines[0]
    refused = action_preview(
        user=ana, kind=ActionKind.REFUND, target=shop.charge, params={"amount": 999999}
    )
    assert not refused.allowed and "remains refundable" in refused.refusal
    assert gateway_refunds(shop) == 0


def test_cancel_at_period_end_then_now(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)

    def cancel(at_period_end: bool) -> ActionRequest:
        return action_submit(
            user=ana,
            kind=ActionKind.CANCEL_SUBSCRIPTION,
            target=shop.subscription,
            params={"at_period_end": at_period_end},
            reason_code="requested_by_customer",
            reason_text="moving away",
            idempotency_key=action_key_issue(user=ana),
        )

    cancel(True)
    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end and shop.subscription.status == "active"
    with pytest.raises(InvalidRequest, match="already set to end"):
        cancel(True)
    cancel(False)
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "canceled"


def test_partial_capture_then_void_is_refused(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    action_submit(
        user=ana,
        kind=ActionKind.CAPTURE,
        target=shop.hold,
        params={"amount": 6000},
        reason_code="requested_by_customer",
        reason_text="",
        idempotency_key=action_key_issue(user=ana),
    )
    shop.hold.refresh_from_db()
    assert (shop.hold.status, shop.hold.amount_captured) == ("captured", 6000)
    with pytest.raises(NotAllowed, match="authorised, uncaptured"):
        action_submit(
            user=ana,
            kind=ActionKind.VOID,
            target=shop.hold,
            params={},
            reason_code="duplicate",
            reason_text="x",
            idempotency_key=action_key_issue(user=ana),
        )


def test_a_decline_is_shown_plainly_recorded_and_audited(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    SandboxEngine(shop.account, webhooks=False).card_attach(
        customer_id=shop.customer.gateway_id,
        number="4000000000000341",
        exp_month=1,
        exp_year=2030,
        make_default=True,
    )

    with pytest.raises(CardDeclined):
        action_submit(
            user=ana,
            kind=ActionKind.AUTHORIZE,
            target=shop.customer,
            params={"amount": 2000, "description": "Deposit"},
            reason_code="requested_by_customer",
            reason_text="",
            idempotency_key=action_key_issue(user=ana),
        )

    request = ActionRequest.objects.get(kind=ActionKind.AUTHORIZE)
    assert request.status == ActionRequest.Status.FAILED and not request.retryable
    assert request.error
    assert AuditEntry.objects.get(request=request).result == "refused"


def test_over_limit_refund_needs_finance_approval(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    fin = agent("fin", Role.FINANCE)
    limit_set(Role.AGENT, 2000)

    request = refund(ana, shop.charge, 3000)

    assert request.status == ActionRequest.Status.PENDING_APPROVAL
    assert gateway_refunds(shop) == 0
    with pytest.raises(NotAllowed, match="Only finance"):
        approval_decide(user=ana, request_id=request.pk, approve=True)

    done = approval_decide(user=fin, request_id=request.pk, approve=True, ip="10.0.0.9")

    assert done.status == ActionRequest.Status.SUCCEEDED and done.approved_by == fin
    assert gateway_refunds(shop) == 1
    entry = AuditEntry.objects.get(request=request, result="succeeded")
    assert entry.actor == ana and entry.approver_name == "Fin (fin)"
    with pytest.raises(InvalidRequest, match="already"):
        approval_decide(user=fin, request_id=request.pk, approve=True)
    # Within the limit, no approval is needed.
    assert refund(ana, shop.charge, 2000).status == ActionRequest.Status.SUCCEEDED


def test_denial_needs_a_reason_and_refunds_nothing(shop: Shop) -> None:
    ana = agent("ana", Role.AGENT)
    fin = agent("fin", Role.FINANCE)
    limit_set(Role.AGENT, 100)
    request = refund(ana, shop.charge, 3000)

    with pytest.raises(InvalidRequest, match="why"):
        approval_decide(user=fin, request_id=request.pk, approve=False)
    denied = approval_decide(user=fin, request_id=request.pk, approve=False, reason="policy")

    assert denied.status == ActionRequest.Status.DENIED
    assert gateway_refunds(shop) == 0
    assert AuditEntry.objects.filter(request=request, result="denied").count() == 1


def test_finance_cannot_approve_its_own_request(shop: Shop) -> None:
    fin = agent("fin", Role.FINANCE)
    limit_set(Role.FINANCE, 100)
    request = refund(fin, shop.charge, 3000)
    with pytest.raises(NotAllowed, match="Someone else"):
        approval_decide(user=fin, request_id=request.pk, approve=True)


@pytest.mark.django_db(transaction=True)
def test_two_agents_refunding_at_the_same_moment_never_exceed_the_charge() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("exercises PostgreSQL row locks; SQLite serialises writers by design")
    shop = build_shop()
    ana = agent("ana", Role.AGENT)
    bob = agent("bob", Role.AGENT)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(user: User) -> None:
        key = action_key_issue(user=user)
        charge = Charge.objects.get(pk=shop.charge.pk)
        barrier.wait()
        try:
            refund(user, charge, 3000, key=key)
            outcomes.append("ok")
        except AmountTooLarge as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in (ana, bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["Only €20.00 remains refundable on this charge.", "ok"]
    charge = Charge.objects.get(pk=shop.charge.pk)
    assert charge.amount_refunded == 3000
    assert Refund.objects.filter(charge=charge).count() == 1


def test_a_refund_the_gateway_refuses_on_stale_state_brings_the_mirror_up_to_date(
    shop: Shop,
) -> None:
    """Disputed in the gateway, no event yet: the refusal mirrors the charge's live state."""
    ana = agent("ana", Role.AGENT)
    SandboxEngine(shop.account).dispute_create(charge_id=shop.charge.gateway_id)

    with pytest.raises(NotAllowed):
        refund(ana, shop.charge, 500)

    shop.charge.refresh_from_db()
    assert shop.charge.status == "disputed"
    assert gateway_refunds(shop) == 0
