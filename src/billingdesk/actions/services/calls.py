"""The gateway call for a claimed (running) request, and recording what it answered.

Success mirrors the gateway's objects, marks the request done and audits it in one
transaction, falling back to recording without the mirror; a failure is recorded as
retryable unless the gateway refused the action.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import transaction

from billingdesk.actions.audit import actor_label
from billingdesk.actions.models import ActionFile, ActionKind, ActionRequest
from billingdesk.actions.rules import TARGETS, target_connector
from billingdesk.actions.services.auditing import _audit
from billingdesk.billing.models import Mirrored, Subscription
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import (
    BillingdeskError,
    InvalidRequest,
    NotFound,
    OperationalError,
    UserFacingError,
)
from billingdesk.gateways.interface import ActionContext, ActionResult, Connector, action_context

logger = logging.getLogger(__name__)
Status = ActionRequest.Status


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
    if kind is ActionKind.CANCEL_SUBSCRIPTION and p.get("refund"):
        return connector.subscription_terminate(
            subscription_id=gid, refund=p["refund"], idempotency_key=key
        )
    if kind is ActionKind.CANCEL_SUBSCRIPTION:
        return connector.subscription_cancel(
            subscription_id=gid, at_period_end=p["at_period_end"], idempotency_key=key
        )
    if kind is ActionKind.PAUSE_SUBSCRIPTION:
        return connector.subscription_pause(subscription_id=gid, idempotency_key=key)
    if kind is ActionKind.RESUME_SUBSCRIPTION:
        return connector.subscription_resume(subscription_id=gid, idempotency_key=key)
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
    if kind is ActionKind.DISPUTE_SUBMIT:
        return connector.dispute_evidence_submit(
            dispute_id=gid, evidence=p["evidence"], files=_files(p["files"]), idempotency_key=key
        )
    if kind is ActionKind.DISPUTE_ACCEPT:
        return connector.dispute_accept(dispute_id=gid, idempotency_key=key)
    if kind is ActionKind.VOID_INVOICE:
        return connector.invoice_void(invoice_id=gid, idempotency_key=key)
    if kind is ActionKind.REACTIVATE_SUBSCRIPTION:
        return connector.subscription_reactivate(subscription_id=gid, idempotency_key=key)
    raise InvalidRequest(f"unknown action {kind}")


def _files(digests: dict[str, str]) -> dict[str, bytes]:
    """The stored files a request names, each checked against its digest."""
    rows = {
        row.sha256: bytes(row.data) for row in ActionFile.objects.filter(pk__in=digests.values())
    }
    files = {}
    for name, digest in digests.items():
        data = rows.get(digest)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise InvalidRequest(f"The evidence file for {name} is missing or damaged.")
        files[name] = data
    return files


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
    token = action_context.set(
        ActionContext(
            request_id=request.pk,
            agent_name=actor_label(request.requested_by) if request.requested_by else "",
            agent_email=getattr(request.requested_by, "email", "") or "",
            approver_name=actor_label(request.approved_by) if request.approved_by else "",
            reason_code=request.reason_code,
            reason_text=request.reason_text,
        )
    )
    try:
        return _call(target_connector(target), request, target, request.params)
    finally:
        action_context.reset(token)


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
