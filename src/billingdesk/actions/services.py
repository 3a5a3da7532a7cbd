"""One-click billing actions: offered, previewed, authorised, run once, audited.

Every action goes through ``action_submit``:

1. the form's idempotency key is checked (signed for this agent) and looked up: a key seen
   before returns the earlier request instead of acting again (double click, retry);
2. role, gateway capability, the target's state, the amount and the reason are checked;
3. **claim** — in one short transaction the target row is locked, its state re-checked
   against what other requests still in flight will take from it (a refund being processed
   counts against what remains), the money limits applied (``actions.limits``) and the
   request row written: ``pending_approval`` (finance decides later) or ``running``;
4. **call** — the gateway is called outside any transaction (no row lock, no SQLite write
   lock held while it answers), with an idempotency key derived from the form's;
5. **record** — in a second transaction the returned objects go to the mirror, the request
   becomes ``succeeded`` (or ``failed``) and the audit entry is appended.

If recording fails after the gateway acted, the outcome and the audit entry are recorded
again without the mirror (a webhook brings it); if even that fails, or the process dies
between 4 and 5, the claim stays ``running`` and ``actions.recovery`` reconciles it later by
asking the gateway again with the same key (connectors honour idempotency keys), or marks it
``unknown`` when that is no longer safe.

Every user-facing refusal (not allowed, over-refund, a decline, a bad form) is audited, then
raised to the caller with its plain message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.audit import actor_label, audit_record
from billingdesk.actions.keys import action_key_issue, key_nonce
from billingdesk.actions.limits import awaiting_approval, limit_refusal
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.preview import ActionPreview, action_preview
from billingdesk.actions.rules import (
    TARGETS,
    TAX_ID_TYPES,
    User,
    action_check,
    actions_available,
    money_of,
    params_clean,
    reason_clean,
    state_refusal,
    target_connector,
    target_person_id,
)
from billingdesk.billing.models import Mirrored, Subscription
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import (
    BillingdeskError,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OperationalError,
    UserFacingError,
)
from billingdesk.core.money import Money
from billingdesk.gateways.interface import (
    ActionResult,
    Connector,
)

logger = logging.getLogger(__name__)

__all__ = [
    "TARGETS",
    "TAX_ID_TYPES",
    "ActionPreview",
    "action_key_issue",
    "action_preview",
    "action_submit",
    "actions_available",
    "approval_decide",
    "request_outcome",
]

Status = ActionRequest.Status
# Kinds of which one at a time may be in flight on a record.
_EXCLUSIVE = {
    ActionKind.CAPTURE: (ActionKind.CAPTURE, ActionKind.VOID),
    ActionKind.VOID: (ActionKind.CAPTURE, ActionKind.VOID),
    ActionKind.CANCEL_SUBSCRIPTION: (ActionKind.CANCEL_SUBSCRIPTION,),
    ActionKind.SEND_INVOICE: (ActionKind.SEND_INVOICE,),
}


# --- submit -------------------------------------------------------------------------------


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


def _target_kind(target: Mirrored) -> str:
    return type(target).__name__.lower()


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


# --- call and record ----------------------------------------------------------------------


def _call(
    connector: Connector, request: ActionRequest, target: Mirrored, p: dict[str, Any]
) -> ActionResult:
    key = f"bd-{request.idempotency_key}"
    kind = ActionKind(request.kind)
    gid = target.gateway_id
    if kind is ActionKind.REFUND:
        return connector.refund_create(
            charge_id=gid, amount=p["amount"], reason=request.reason_code, idempotency_key=key
        )
    if kind is ActionKind.CAPTURE:
        return connector.charge_capture(charge_id=gid, amount=p["amount"], idempotency_key=key)
    if kind is ActionKind.VOID:
        return connector.charge_void(charge_id=gid, idempotency_key=key)
    if kind is ActionKind.CANCEL_SUBSCRIPTION:
        return connector.subscription_cancel(
            subscription_id=gid, at_period_end=p["at_period_end"], idempotency_key=key
        )
    if kind is ActionKind.SEND_INVOICE:
        return connector.invoice_send(invoice_id=gid, idempotency_key=key)
    if kind is ActionKind.CREATE_SUBSCRIPTION:
        return connector.subscription_create(
            customer_id=gid,
            plan=p["plan"],
            quantity=p["quantity"],
            coupon_id=p["coupon_id"],
            trial_days=p["trial_days"],
            idempotency_key=key,
        )
    if kind is ActionKind.APPLY_COUPON:
        if isinstance(target, Subscription):
            return connector.coupon_apply(
                coupon_id=p["coupon_id"], subscription_id=gid, idempotency_key=key
            )
        return connector.coupon_apply(
            coupon_id=p["coupon_id"], customer_id=gid, idempotency_key=key
        )
    if kind is ActionKind.ADD_TAX_ID:
        return connector.tax_id_add(
            customer_id=gid, tax_type=p["tax_type"], value=p["value"], idempotency_key=key
        )
    if kind is ActionKind.PAYMENT_REQUEST:
        return connector.payment_request_create(
            customer_id=gid,
            amount=p["amount"],
            currency=p["currency"],
            description=p["description"],
            idempotency_key=key,
        )
    if kind is ActionKind.AUTHORIZE:
        return connector.charge_authorize(
            customer_id=gid,
            amount=p["amount"],
            currency=p["currency"],
            description=p["description"],
            idempotency_key=key,
        )
    raise InvalidRequest(f"unknown action {kind}")


def _target_of(request: ActionRequest) -> Mirrored:
    kind = ActionKind(request.kind)
    model = next((m for m in TARGETS[kind] if m.__name__.lower() == request.target_kind), None)
    row = (
        model._default_manager.select_related("account")
        .filter(account=request.account, gateway_id=request.target_id)
        .first()
        if model is not None
        else None
    )
    if row is None:
        raise NotFound("The record this action was for no longer exists.")
    return row


def gateway_call(request: ActionRequest) -> ActionResult:
    """Ask the gateway to do what the request says (outside any transaction)."""
    target = _target_of(request)
    return _call(target_connector(target), request, target, request.params)


def _run(request: ActionRequest, *, actor: Any, approver: Any, ip: str | None) -> ActionRequest:
    """Call the gateway for a claimed (running) request, then record what it answered."""
    try:
        result = gateway_call(request)
    except Exception as exc:
        record_failure(request, exc, actor=actor, approver=approver, ip=ip)
        if isinstance(exc, (UserFacingError, OperationalError)):
            raise
        raise OperationalError("The action failed unexpectedly; it was recorded.") from exc
    return record_success(request, result, actor=actor, approver=approver, ip=ip)


def record_success(
    request: ActionRequest,
    result: ActionResult,
    *,
    actor: Any,
    approver: Any,
    ip: str | None,
    detail: str = "",
) -> ActionRequest:
    """Mirror the gateway's objects, mark the request done and audit it, in one transaction.

    If that fails, the outcome and the audit entry are written without the mirror; if that
    fails too, the request stays running for ``actions.recovery``.
    """
    try:
        return _record_success(request, result, actor, approver, ip, detail, mirror=True)
    except Exception:
        logger.exception("recording action %s failed after the gateway acted", request.pk)
    try:
        return _record_success(
            request,
            result,
            actor,
            approver,
            ip,
            (detail + "; " if detail else "") + "mirror not updated when recorded",
            mirror=False,
        )
    except Exception as exc:
        logger.exception("action %s left running: the sweep will reconcile it", request.pk)
        raise OperationalError(
            "The gateway accepted this action but recording it failed; it will be recorded "
            "automatically. Do not submit it again."
        ) from exc


def _record_success(
    request: ActionRequest,
    result: ActionResult,
    actor: Any,
    approver: Any,
    ip: str | None,
    detail: str,
    *,
    mirror: bool,
) -> ActionRequest:
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.RUNNING:
            return request  # recorded already (the sweep, or the other of two submissions)
        if mirror:
            mirror_upsert(account=request.account, objects=result.objects)
        request.status = Status.SUCCEEDED
        request.retryable = False
        request.error = ""
        request.gateway_request_id = result.request_id[:255]
        request.result_ids = [obj.id for obj in result.objects]
        request.url = result.url
        request.save()
        _audit(request, actor=actor, approver=approver, result="succeeded", ip=ip, detail=detail)
    return request


def record_failure(
    request: ActionRequest, exc: BaseException, *, actor: Any, approver: Any, ip: str | None
) -> None:
    """Mark a running request failed (retryable unless the gateway refused it) and audit it."""
    refreshed = getattr(exc, "refreshed", None)
    if refreshed:  # the live state the gateway refused on: the mirror catches up
        try:
            mirror_upsert(account=request.account, objects=refreshed)
        except Exception:
            logger.exception("mirroring the state action %s was refused on failed", request.pk)
    try:
        with transaction.atomic():
            request = ActionRequest.objects.select_for_update().get(pk=request.pk)
            if request.status != Status.RUNNING:
                return
            request.status = Status.FAILED
            request.retryable = not isinstance(exc, UserFacingError)
            request.error = exc.message if isinstance(exc, BillingdeskError) else "internal error"
            request.save(update_fields=["status", "retryable", "error", "updated_at"])
            _audit(
                request,
                actor=actor,
                approver=approver,
                result="refused" if isinstance(exc, UserFacingError) else "failed",
                ip=ip,
                detail=f"{type(exc).__name__}: {exc}",
            )
    except Exception:
        logger.exception("recording the failure of action %s failed", request.pk)


def _audit(
    request: ActionRequest,
    *,
    actor: Any,
    result: str,
    ip: str | None,
    approver: Any = None,
    detail: str = "",
    action: str | None = None,
) -> None:
    audit_record(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action or request.kind,
        result=result,
        approver_name=actor_label(approver) if approver is not None else "",
        account=request.account,
        person_id=request.person_id,
        target_kind=request.target_kind,
        target_id=request.target_id,
        amount=request.amount,
        currency=request.currency,
        reason_code=request.reason_code,
        reason_text=request.reason_text,
        gateway_request_id=request.gateway_request_id,
        detail=detail or request.error,
        ip=ip,
        request=request,
    )


def _audit_refusal(
    user: User,
    kind: ActionKind | str,
    target: Mirrored,
    exc: UserFacingError,
    *,
    ip: str | None,
    amount: object = None,
    currency: str = "",
    action: str | None = None,
) -> None:
    """Audit a refusal that left no request row (checked before anything was written)."""
    try:
        value = int(amount) if isinstance(amount, int) and not isinstance(amount, bool) else None
        audit_record(
            actor=user if getattr(user, "is_authenticated", False) else None,  # type: ignore[arg-type]
            action=action or str(kind),
            result="refused",
            account_id=getattr(target, "account_id", None),
            person_id=target_person_id(target),
            target_kind=_target_kind(target),
            target_id=str(getattr(target, "gateway_id", ""))[:255],
            amount=value if value is not None and abs(value) < 2**62 else None,
            currency=str(currency or "")[:3],
            detail=f"{type(exc).__name__}: {exc.message}",
            ip=ip,
        )
    except Exception:
        logger.exception("auditing a refusal failed")


def request_outcome(
    request: ActionRequest, *, money: Callable[[int, str], str] | None = None
) -> tuple[str, str]:
    """What to tell the agent about a submitted request: (level, message).

    level is "success", "info", "warning" or "error"; a request another submission of the
    same form is running is reported as in progress, never as an error. ``money`` formats
    an amount (default: ``Money``'s "12.50 EUR").
    """
    what = ActionKind(request.kind).label
    show = money or (lambda amount, currency: str(Money(amount, currency)))
    amount = (
        f" ({show(request.amount, request.currency)})"
        if request.amount is not None and request.currency
        else ""
    )
    if request.status == Status.SUCCEEDED:
        return "success", f"Done: {what}{amount}."
    if request.status == Status.RUNNING:
        return "info", (
            f"This {what}{amount} is being processed (request #{request.pk}); "
            "do not submit it again. Reload in a moment to see the result."
        )
    if request.status == Status.PENDING_APPROVAL:
        return "warning", (
            f"{what.capitalize()}{amount} is above your limit: sent to finance for approval "
            f"(request #{request.pk}). It shows as awaiting approval until decided."
        )
    if request.status == Status.UNKNOWN:
        return "warning", (
            f"The outcome of this {what}{amount} is unknown (request #{request.pk}): check "
            "the gateway before trying again."
        )
    if request.status == Status.DENIED:
        why = f": {request.decision_reason}" if request.decision_reason else ""
        return "error", f"This {what}{amount} was denied{why}."
    return "error", f"This {what}{amount} failed: {request.error or 'no reason was recorded'}."


# --- approvals ----------------------------------------------------------------------------


def _already(request: ActionRequest) -> str:
    if request.status == Status.FAILED:
        return f"This request already failed: {request.error or 'no reason was recorded'}."
    if request.status == Status.DENIED:
        why = f": {request.decision_reason}" if request.decision_reason else "."
        return f"This request was already denied{why}"
    if request.status == Status.SUCCEEDED:
        return "This request was already approved and done."
    if request.status == Status.RUNNING:
        return "This request was already approved and is being processed."
    return f"This request is already {request.get_status_display()}."


def approval_decide(
    *, user: User, request_id: int, approve: bool, reason: str = "", ip: str | None = None
) -> ActionRequest:
    """Finance approves (the action then runs, audited with both names) or denies it.

    An approver may approve only what their own limits allow; the state of the record is
    checked again, and a request that can no longer run is marked failed with the reason.
    """
    if ROLE_RANK[role_of(user)] < ROLE_RANK[Role.FINANCE]:
        raise NotAllowed("Only finance or an admin can decide on approval requests.")
    reason = (reason or "").strip()
    refusal: UserFacingError | None = None
    request: ActionRequest | None = None
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound("No such approval request.")
        if request.status != Status.PENDING_APPROVAL:
            raise InvalidRequest(_already(request))
        if request.requested_by_id == user.pk:
            raise NotAllowed("Someone else must approve your own request.")
        if not approve and not reason:
            raise InvalidRequest("Say why the request is denied.")
        request.approved_by = user  # type: ignore[assignment]
        request.decided_at = timezone.now()
        request.decision_reason = reason
        if not approve:
            request.status = Status.DENIED
            request.save()
            _audit(
                request,
                actor=request.requested_by,
                approver=user,
                result="denied",
                ip=ip,
                detail=reason,
                action=f"{request.kind}.approval",
            )
            return request
        kind = ActionKind(request.kind)
        authority = limit_refusal(
            user=user,
            kind=kind,
            amount=request.amount,
            currency=request.currency,
            account_id=request.account_id,
            target_kind=request.target_kind,
            target_id=request.target_id,
            approving=request,
        )
        if authority:
            refusal = NotAllowed(f"You cannot approve this: {authority}")
        else:
            try:
                locked = _lock_target(kind, request.account, request.target_kind, request.target_id)
                request.params = _recheck(kind, locked, request.params, exclude_pk=request.pk)
            except UserFacingError as exc:
                # It can never run as asked (refunded meanwhile, the charge gone…): say why.
                refusal = exc
                request.status = Status.FAILED
                request.error = exc.message
                request.save()
                _audit(request, actor=request.requested_by, approver=user, result="refused",
                       ip=ip, detail=exc.message)  # fmt: skip
            else:
                request.status = Status.RUNNING
                request.claimed_at = timezone.now()
                request.save()
    if refusal is not None:
        if request.status == Status.PENDING_APPROVAL:  # still waiting for someone who may
            _audit(request, actor=request.requested_by, approver=user, result="refused", ip=ip,
                   detail=refusal.message, action=f"{request.kind}.approval")  # fmt: skip
        raise refusal
    return _run(request, actor=request.requested_by, approver=user, ip=ip)
