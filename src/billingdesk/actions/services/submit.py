"""``action_submit``: check, claim and run an action exactly once per form key.

The checks are made again under the target's row lock (``_recheck``), a form submitted
twice is answered from its first request, and an action above the agent's limit waits for
approval instead of running.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from billingdesk.actions.keys import key_nonce
from billingdesk.actions.limits import awaiting_approval, limit_refusal
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import (
    TARGETS,
    User,
    action_check,
    money_of,
    params_clean,
    reason_clean,
    state_refusal,
    target_person_id,
)
from billingdesk.actions.services.auditing import _audit, _audit_refusal, _target_kind
from billingdesk.actions.services.calls import _run
from billingdesk.billing.models import Mirrored
from billingdesk.core.errors import InvalidRequest, NotAllowed, NotFound, UserFacingError
from billingdesk.core.money import Money

Status = ActionRequest.Status


_PAUSING = (ActionKind.PAUSE_SUBSCRIPTION, ActionKind.RESUME_SUBSCRIPTION)
# Kinds of which one at a time may be in flight on a record.
_EXCLUSIVE = {
    ActionKind.CAPTURE: (ActionKind.CAPTURE, ActionKind.VOID),
    ActionKind.VOID: (ActionKind.CAPTURE, ActionKind.VOID),
    ActionKind.CANCEL_SUBSCRIPTION: (ActionKind.CANCEL_SUBSCRIPTION,),
    ActionKind.SEND_INVOICE: (ActionKind.SEND_INVOICE,),
    ActionKind.PAUSE_SUBSCRIPTION: _PAUSING,
    ActionKind.RESUME_SUBSCRIPTION: _PAUSING,
    # A void and a send of one invoice, a cancel and a reactivation of one subscription,
    # exclude each other: the second would act on a state the first is changing.
    ActionKind.VOID_INVOICE: (ActionKind.VOID_INVOICE, ActionKind.SEND_INVOICE),
    ActionKind.REACTIVATE_SUBSCRIPTION: (
        ActionKind.REACTIVATE_SUBSCRIPTION,
        ActionKind.CANCEL_SUBSCRIPTION,
    ),
}


def action_submit(
    *,
    user: User,
    kind: ActionKind,
    target: Mirrored,
    params: dict[str, Any],
    reason_code: str,
    reason_text: str,
    idempotency_key: str,
    ip: str | None = None,
) -> ActionRequest:
    """Run an action (or ask for its approval), exactly once per form key."""
    kind = ActionKind(kind)
    amount, currency = _money_guess(target, params)
    try:
        nonce = key_nonce(user=user, key=idempotency_key)
        existing = ActionRequest.objects.filter(idempotency_key=nonce).first()
        if existing is not None:
            return _replay(existing, kind=kind, target=target, user=user, ip=ip)
        action_check(user, kind, target)
        if not isinstance(user, AuthUser):  # action_check refused anonymous users already
            raise NotAllowed("Sign in to act on billing data.")
        clean = params_clean(kind, target, params)
        code, text = reason_clean(kind, reason_code, reason_text)
        amount, currency = money_of(kind, target, clean)
        _refuse_if_awaiting(kind, target.account_id, _target_kind(target), target.gateway_id)  # type: ignore[attr-defined]
    except UserFacingError as exc:
        _audit_refusal(user, kind, target, exc, ip=ip, amount=amount, currency=currency)
        raise
    try:
        with transaction.atomic():
            locked = _lock_target(kind, target.account, _target_kind(target), target.gateway_id)
            clean = _recheck(kind, locked, clean, exclude_pk=None)
            _refuse_if_awaiting(kind, target.account_id, _target_kind(target), target.gateway_id)  # type: ignore[attr-defined]
            amount, currency = money_of(kind, locked, clean)
            approval = limit_refusal(
                user=user,
                kind=kind,
                amount=amount,
                currency=currency,
                account_id=target.account_id,  # type: ignore[attr-defined]
                target_kind=_target_kind(target),
                target_id=target.gateway_id,
            )
            request = ActionRequest.objects.create(
                idempotency_key=nonce,
                kind=kind,
                status=Status.PENDING_APPROVAL if approval else Status.RUNNING,
                claimed_at=None if approval else timezone.now(),
                account=target.account,
                person_id=target_person_id(target),
                target_kind=_target_kind(target),
                target_id=target.gateway_id,
                params=clean,
                amount=amount,
                currency=currency,
                reason_code=code,
                reason_text=text,
                requested_by=user,
            )
            if approval:
                _audit(request, actor=user, result="approval_requested", ip=ip, detail=approval)
    except IntegrityError:
        # The same form was submitted twice at the same moment: the other one acts, and the
        # caller is told what it is doing (``request_outcome``).
        return ActionRequest.objects.get(idempotency_key=nonce)
    except UserFacingError as exc:  # the state changed since the first checks
        _audit_refusal(user, kind, target, exc, ip=ip, amount=amount, currency=currency)
        raise
    if request.status == Status.PENDING_APPROVAL:
        return request
    return _run(request, actor=user, approver=None, ip=ip)


def _money_guess(target: Mirrored, params: Any) -> tuple[int | None, str]:
    """The amount and currency as submitted, for auditing a refusal of an invalid form."""
    raw = params.get("amount") if isinstance(params, dict) else None
    amount = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    currency = params.get("currency") if isinstance(params, dict) else None
    return amount, str(currency or getattr(target, "currency", "") or "")[:3]


def _refuse_if_awaiting(kind: ActionKind, account_id: object, target_kind: str, gid: str) -> None:
    waiting = awaiting_approval(
        kind=kind, account_id=account_id, target_kind=target_kind, target_id=gid
    )
    if waiting is not None:
        what = f" of {Money(waiting.amount, waiting.currency)}" if waiting.amount else ""
        raise NotAllowed(
            f"A {ActionKind(kind).label}{what} on this record is already awaiting approval "
            f"(request #{waiting.pk}); wait for finance's decision."
        )


def _replay(
    existing: ActionRequest, *, kind: ActionKind, target: Mirrored, user: User, ip: str | None
) -> ActionRequest:
    if existing.kind != kind or existing.target_id != target.gateway_id:
        raise InvalidRequest("This form was already used for another action. Reload it.")
    if existing.status == Status.FAILED and existing.retryable:
        # The gateway may never have seen it; the same gateway key makes a retry safe.
        return _retry(existing, actor=user, ip=ip)
    if existing.status == Status.RUNNING and _stale(existing):
        from billingdesk.actions.recovery import request_reconcile

        return request_reconcile(existing)
    return existing


def _stale(request: ActionRequest) -> bool:
    cutoff = timezone.now() - timedelta(seconds=settings.ACTION_CLAIM_TIMEOUT_SECONDS)
    return request.updated_at < cutoff


def _retry(request: ActionRequest, *, actor: User, ip: str | None) -> ActionRequest:
    """Claim a retryable failed request again (re-checked), then call the gateway again."""
    try:
        with transaction.atomic():
            request = ActionRequest.objects.select_for_update().get(pk=request.pk)
            if request.status != Status.FAILED or not request.retryable:
                return request  # another submission retried it meanwhile
            kind = ActionKind(request.kind)
            locked = _lock_target(kind, request.account, request.target_kind, request.target_id)
            request.params = _recheck(kind, locked, request.params, exclude_pk=request.pk)
            request.status = Status.RUNNING
            request.claimed_at = timezone.now()
            request.error = ""
            request.retryable = False
            request.save()
    except UserFacingError as exc:
        _audit(request, actor=actor, result="refused", ip=ip, detail=exc.message)
        raise
    return _run(request, actor=actor, approver=request.approved_by, ip=ip)


def _lock_target(kind: ActionKind, account: Any, target_kind: str, gid: str) -> Mirrored:
    model = next((m for m in TARGETS[kind] if m.__name__.lower() == target_kind), None)
    row = (
        model._default_manager.select_for_update().filter(account=account, gateway_id=gid).first()
        if model is not None
        else None
    )
    if row is None:
        raise NotFound("The record this action was for no longer exists.")
    return row


def _recheck(
    kind: ActionKind, target: Mirrored, params: dict[str, Any], *, exclude_pk: int | None
) -> dict[str, Any]:
    """The state and parameters checked again under the target's lock, counting what the
    requests still in flight on it (claimed, gateway not yet answered) will take."""
    in_flight = ActionRequest.objects.filter(
        account_id=target.account_id,  # type: ignore[attr-defined]
        target_id=target.gateway_id,
        target_kind=_target_kind(target),
        status__in=(Status.RUNNING, Status.UNKNOWN),
    )
    if exclude_pk is not None:
        in_flight = in_flight.exclude(pk=exclude_pk)
    if kind is ActionKind.REFUND:
        reserved = in_flight.filter(kind=ActionKind.REFUND).aggregate(total=Sum("amount"))
        target.amount_refunded += int(reserved["total"] or 0)  # type: ignore[attr-defined]
    busy = _EXCLUSIVE.get(kind)
    if busy and in_flight.filter(kind__in=busy).exists():
        raise NotAllowed(
            "Another action on this record is being processed; wait a moment and reload."
        )
    refusal = state_refusal(kind, target)
    if refusal:
        raise NotAllowed(refusal)
    return params_clean(kind, target, params)
