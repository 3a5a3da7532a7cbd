"""One-click billing actions: offered, previewed, authorised, run once, audited.

Every action goes through ``action_submit``:

1. the form's idempotency key is checked (signed for this agent) and looked up: a key seen
   before returns the earlier request instead of acting again (double click, retry);
2. role, gateway capability, the target's state, the amount and the reason are checked;
3. a refund above the agent's limit becomes an approval request for finance;
4. otherwise the target row is locked, the state re-checked, the gateway called with an
   idempotency key derived from the form's, the returned objects written to the mirror and
   the audit entry appended, all in one transaction.

A user-facing refusal (decline, over-refund, not allowed) is recorded and audited, then
raised to the caller with its plain message.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.audit import actor_label, audit_record
from billingdesk.actions.keys import action_key_issue, key_nonce
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.preview import ActionPreview, action_preview
from billingdesk.actions.rules import (
    TARGETS,
    TAX_ID_TYPES,
    User,
    action_check,
    actions_available,
    money_of,
    needs_approval,
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
from billingdesk.gateways.interface import (
    ActionResult,
    Connector,
)

__all__ = [
    "TARGETS",
    "TAX_ID_TYPES",
    "ActionPreview",
    "action_key_issue",
    "action_preview",
    "action_submit",
    "actions_available",
    "approval_decide",
]


# --- submit and run -----------------------------------------------------------------------


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
    nonce = key_nonce(user=user, key=idempotency_key)
    existing = ActionRequest.objects.filter(idempotency_key=nonce).first()
    if existing is not None:
        return _replay(existing, kind=kind, target=target, user=user, ip=ip)
    action_check(user, kind, target)
    if not isinstance(user, AuthUser):  # _check refused anonymous users already
        raise NotAllowed("Sign in to act on billing data.")
    clean = params_clean(kind, target, params)
    code, text = reason_clean(kind, reason_code, reason_text)
    amount, currency = money_of(kind, target, clean)
    approval = needs_approval(user, kind, amount, currency)
    try:
        with transaction.atomic():
            request = ActionRequest.objects.create(
                idempotency_key=nonce,
                kind=kind,
                status=(
                    ActionRequest.Status.PENDING_APPROVAL
                    if approval
                    else ActionRequest.Status.RUNNING
                ),
                account=target.account,
                person_id=target_person_id(target),
                target_kind=type(target).__name__.lower(),
                target_id=target.gateway_id,
                params=clean,
                amount=amount,
                currency=currency,
                reason_code=code,
                reason_text=text,
                requested_by=user,
            )
            if approval:
                _audit(request, actor=user, result="approval_requested", ip=ip)
    except IntegrityError:
        # The same form was submitted twice at the same moment: the other one acts.
        return ActionRequest.objects.get(idempotency_key=nonce)
    if approval:
        return request
    return _execute(request, actor=user, approver=None, ip=ip)


def _replay(
    existing: ActionRequest, *, kind: ActionKind, target: Mirrored, user: User, ip: str | None
) -> ActionRequest:
    if existing.kind != kind or existing.target_id != target.gateway_id:
        raise InvalidRequest("This form was already used for another action. Reload it.")
    if existing.status == ActionRequest.Status.FAILED and existing.retryable:
        # The gateway may never have seen it; the same gateway key makes a retry safe.
        return _execute(existing, actor=user, approver=existing.approved_by, ip=ip)
    return existing


def _lock_target(request: ActionRequest) -> Mirrored:
    model = next(
        m for m in TARGETS[ActionKind(request.kind)] if m.__name__.lower() == request.target_kind
    )
    row = (
        model._default_manager.select_for_update()
        .filter(account=request.account, gateway_id=request.target_id)
        .first()
    )
    if row is None:
        raise NotFound("The record this action was for no longer exists.")
    return row


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


def _execute(
    request: ActionRequest, *, actor: User, approver: Any, ip: str | None
) -> ActionRequest:
    """Lock, re-check, call the gateway, mirror and audit; all or nothing, once."""
    failure: BaseException | None = None
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == ActionRequest.Status.SUCCEEDED:
            return request
        try:
            target = _lock_target(request)
            # State may have changed since the form was shown (another agent, a webhook).
            refusal = state_refusal(ActionKind(request.kind), target)
            if refusal:
                raise NotAllowed(refusal)
            params = params_clean(ActionKind(request.kind), target, request.params)
            result = _call(target_connector(target), request, target, params)
        except Exception as exc:
            failure = exc
            request.status = ActionRequest.Status.FAILED
            request.retryable = not isinstance(exc, UserFacingError)
            request.error = exc.message if isinstance(exc, BillingdeskError) else "internal error"
            request.save(update_fields=["status", "retryable", "error", "updated_at"])
            outcome = "refused" if isinstance(exc, UserFacingError) else "failed"
            _audit(
                request,
                actor=actor,
                approver=approver,
                result=outcome,
                ip=ip,
                detail=f"{type(exc).__name__}: {exc}",
            )
        else:
            mirror_upsert(account=request.account, objects=result.objects)
            request.status = ActionRequest.Status.SUCCEEDED
            request.retryable = False
            request.error = ""
            request.gateway_request_id = result.request_id[:255]
            request.result_ids = [obj.id for obj in result.objects]
            request.url = result.url
            request.save()
            _audit(request, actor=actor, approver=approver, result="succeeded", ip=ip)
    if failure is not None:
        if isinstance(failure, (UserFacingError, OperationalError)):
            raise failure
        raise OperationalError("The action failed unexpectedly; it was recorded.") from failure
    return request


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


# --- approvals ----------------------------------------------------------------------------


def approval_decide(
    *, user: User, request_id: int, approve: bool, reason: str = "", ip: str | None = None
) -> ActionRequest:
    """Finance approves (the action then runs, audited with both names) or denies it."""
    if ROLE_RANK[role_of(user)] < ROLE_RANK[Role.FINANCE]:
        raise NotAllowed("Only finance or an admin can decide on approval requests.")
    reason = (reason or "").strip()
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound("No such approval request.")
        if request.status != ActionRequest.Status.PENDING_APPROVAL:
            raise InvalidRequest(f"This request is already {request.get_status_display()}.")
        if request.requested_by_id == user.pk:
            raise NotAllowed("Someone else must approve your own request.")
        if not approve and not reason:
            raise InvalidRequest("Say why the request is denied.")
        request.approved_by = user  # type: ignore[assignment]
        request.decided_at = timezone.now()
        request.decision_reason = reason
        if not approve:
            request.status = ActionRequest.Status.DENIED
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
        request.status = ActionRequest.Status.RUNNING
        request.save()
    return _execute(request, actor=request.requested_by, approver=user, ip=ip)
