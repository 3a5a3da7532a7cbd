"""Audit entries for action requests, and for refusals that left no request row."""

from __future__ import annotations

import logging
from typing import Any

from billingdesk.actions.audit import actor_label, audit_record
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import User, target_person_id
from billingdesk.actions.signals import action_recorded
from billingdesk.billing.models import Mirrored
from billingdesk.core.errors import UserFacingError

logger = logging.getLogger(__name__)


def _target_kind(target: Mirrored) -> str:
    return type(target).__name__.lower()


def _on_behalf(actor: Any) -> tuple[str, str]:
    """Who an action is done for when a service user submits it for someone who is not a
    user (the customer pages: ``customer <email>``), and the detail's source prefix."""
    name = str(getattr(actor, "audit_name", "") or "")
    source = str(getattr(actor, "audit_source", "") or "")
    return name, (f"source={source}; " if source else "")


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
    name, source = _on_behalf(actor)
    audit_record(
        actor=actor if getattr(actor, "is_authenticated", False) and not name else None,
        actor_name=name,
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
        detail=source + (detail or request.error),
        ip=ip,
        request=request,
    )
    action_recorded.send(
        sender=ActionRequest, request=request, result=result, action=action or request.kind
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
        name, source = _on_behalf(user)
        audit_record(
            actor=user if getattr(user, "is_authenticated", False) and not name else None,  # type: ignore[arg-type]
            actor_name=name,
            action=action or str(kind),
            result="refused",
            account_id=getattr(target, "account_id", None),
            person_id=target_person_id(target),
            target_kind=_target_kind(target),
            target_id=str(getattr(target, "gateway_id", ""))[:255],
            amount=value if value is not None and abs(value) < 2**62 else None,
            currency=str(currency or "")[:3],
            detail=f"{source}{type(exc).__name__}: {exc.message}",
            ip=ip,
        )
    except Exception:
        logger.exception("auditing a refusal failed")
