"""Approvals: finance approves (the action then runs) or denies a request above an
agent's limit.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.limits import limit_refusal
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import User
from billingdesk.actions.services.auditing import _audit
from billingdesk.actions.services.calls import _run
from billingdesk.actions.services.submit import _lock_target, _recheck
from billingdesk.actions.signals import action_recorded
from billingdesk.core.errors import InvalidRequest, NotAllowed, NotFound, UserFacingError

Status = ActionRequest.Status


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
                action_recorded.send(
                    sender=ActionRequest, request=request, result="approved",
                    action=f"{request.kind}.approval",
                )  # fmt: skip
    if refusal is not None:
        if request.status == Status.PENDING_APPROVAL:  # still waiting for someone who may
            _audit(request, actor=request.requested_by, approver=user, result="refused", ip=ip,
                   detail=refusal.message, action=f"{request.kind}.approval")  # fmt: skip
        raise refusal
    return _run(request, actor=request.requested_by, approver=user, ip=ip)
