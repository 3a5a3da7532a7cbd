"""The approval queue (scope ``actions``): what the console's approvals page shows and does.

``GET /approvals`` lists the requests waiting for finance and the latest decisions (a key of
the agent role sees only its own requests, as an agent does in the console);
``POST /approvals/{id}/approve`` and ``/deny`` decide through the same service as the
console (``actions.services.approval_decide``): only a key of the finance role may decide,
never on its own request, within its own limits, and a denial needs a reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from billingdesk.accounts.models import Role
from billingdesk.accounts.selectors import role_at_least
from billingdesk.accounts.throttle import client_ip
from billingdesk.actions.models import ActionRequest
from billingdesk.actions.services import approval_decide
from billingdesk.api.keys import KeyRefused
from billingdesk.api.v1.actions import RequestOut, request_out
from billingdesk.api.v1.auth import ACTIONS, key_of
from billingdesk.api.v1.errors import ERRORS
from billingdesk.api.v1.schemas import Id
from billingdesk.panel.selectors import pending_approvals

router = Router(auth=ACTIONS, tags=["approvals"])


class ApprovalOut(RequestOut):
    requested_by: str
    decided_by: str
    decided_at: datetime | None
    decision_reason: str
    reason_code: str
    reason_text: str
    created_at: datetime


class ApprovalsOut(Schema):
    pending: list[ApprovalOut]
    decided: list[ApprovalOut]


class DecisionIn(Schema):
    reason: str = Field("", max_length=2000, description="required to deny")


def _name(user: Any) -> str:
    if user is None:
        return ""
    return f"{user.first_name} {user.last_name}".strip() or str(user.username)


def approval_out(request: ActionRequest) -> dict[str, Any]:
    return {
        **request_out(request),
        "requested_by": _name(request.requested_by),
        "decided_by": _name(request.approved_by),
        "decided_at": request.decided_at,
        "decision_reason": request.decision_reason,
        "reason_code": request.reason_code,
        "reason_text": request.reason_text,
        "created_at": request.created_at,
    }


def _role_at_least(request: HttpRequest, role: Role, what: str) -> Any:
    user = key_of(request).user
    if not role_at_least(user, role):
        raise KeyRefused(403, "role_insufficient", f"This API key's role cannot {what}.")
    return user


@router.get("/approvals", response={200: ApprovalsOut, **ERRORS}, summary="The approval queue")
def approvals_list(request: HttpRequest) -> dict[str, Any]:
    user = _role_at_least(request, Role.AGENT, "see approval requests")
    found = pending_approvals(requested_by=None if role_at_least(user, Role.FINANCE) else user)
    return {
        "pending": [approval_out(r) for r in found.pending],
        "decided": [approval_out(r) for r in found.decided],
    }


def _decide(request: HttpRequest, request_id: int, body: DecisionIn, approve: bool) -> Any:
    user = _role_at_least(request, Role.FINANCE, "decide approval requests")
    decided = approval_decide(
        user=user, request_id=request_id, approve=approve, reason=body.reason,
        ip=client_ip(request) or None,
    )  # fmt: skip
    return approval_out(decided)


@router.post(
    "/approvals/{request_id}/approve",
    response={200: ApprovalOut, **ERRORS},
    summary="Approve (the action then runs)",
)
def approval_approve(request: HttpRequest, request_id: Id, body: DecisionIn) -> Any:
    return _decide(request, request_id, body, True)


@router.post("/approvals/{request_id}/deny", response={200: ApprovalOut, **ERRORS}, summary="Deny")
def approval_deny(request: HttpRequest, request_id: Id, body: DecisionIn) -> Any:
    return _decide(request, request_id, body, False)
