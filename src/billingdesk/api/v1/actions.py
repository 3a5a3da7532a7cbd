"""Agent actions through the API (scope ``actions``): the same service as the panel.

``POST /actions/preview`` says what an action would do (or why it cannot); ``POST /actions``
runs it once per ``Idempotency-Key`` header (a retry with the same key returns the first
request), with the key's service identity as the agent: its role's limits and approvals
apply and the audit log names it.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status

from billingdesk.accounts.throttle import client_ip
from billingdesk.actions.keys import action_key_for_client
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import TARGETS
from billingdesk.actions.services import action_preview, action_submit, request_outcome
from billingdesk.api.v1.auth import ACTIONS, key_of
from billingdesk.api.v1.errors import ERRORS
from billingdesk.api.v1.schemas import Id
from billingdesk.billing.models import Charge, Customer, Invoice, Mirrored, Subscription
from billingdesk.core.errors import InvalidRequest, NotFound

router = Router(auth=ACTIONS, tags=["actions"])

_MODELS: dict[str, type[Mirrored]] = {
    "charge": Charge, "customer": Customer, "subscription": Subscription, "invoice": Invoice,
}  # fmt: skip
Kind = Literal[
    "refund", "capture", "void", "authorize", "cancel_subscription", "create_subscription",
    "send_invoice", "apply_coupon", "add_tax_id", "payment_request",
]  # fmt: skip
TargetType = Literal["charge", "customer", "subscription", "invoice"]


class ActionIn(Schema):
    kind: Kind
    target_type: TargetType
    target_id: Id
    params: dict[str, Any] = Field(default_factory=dict, description="e.g. {'amount': 500}")
    reason_code: str = Field("", max_length=40)
    reason_text: str = Field("", max_length=2000)


class PreviewOut(Schema):
    kind: str
    allowed: bool
    refusal: str
    lines: list[str]
    amount: int | None
    currency: str
    needs_approval: bool


class RequestOut(Schema):
    id: int
    kind: str
    status: str
    target_type: str
    target_id: str
    amount: int | None
    currency: str
    error: str
    message: str
    result_ids: list[str]
    url: str


def _target(body: ActionIn) -> Mirrored:
    model = _MODELS[body.target_type]
    if model not in TARGETS[ActionKind(body.kind)]:
        raise InvalidRequest(f"A {body.kind} does not apply to a {body.target_type}.")
    row = model._default_manager.filter(pk=body.target_id).first()
    if row is None:
        raise NotFound(f"No {body.target_type} with id {body.target_id}.")
    return row


def request_out(request: ActionRequest) -> dict[str, Any]:
    _, message = request_outcome(request)
    return {
        "id": request.pk, "kind": request.kind, "status": request.status,
        "target_type": request.target_kind, "target_id": request.target_id,
        "amount": request.amount, "currency": request.currency, "error": request.error,
        "message": message, "result_ids": [str(i) for i in request.result_ids or []],
        "url": request.url,
    }  # fmt: skip


@router.post("/actions/preview", response={200: PreviewOut, **ERRORS}, summary="Preview")
def preview(request: HttpRequest, body: ActionIn) -> dict[str, Any]:
    seen = action_preview(
        user=key_of(request).user, kind=ActionKind(body.kind), target=_target(body),
        params=body.params,
    )  # fmt: skip
    return {
        "kind": seen.kind, "allowed": seen.allowed, "refusal": seen.refusal,
        "lines": seen.lines, "amount": seen.amount.amount if seen.amount else None,
        "currency": seen.amount.currency if seen.amount else "",
        "needs_approval": seen.needs_approval,
    }  # fmt: skip


@router.post(
    "/actions", response={200: RequestOut, 202: RequestOut, **ERRORS}, summary="Run an action"
)
def submit(
    request: HttpRequest,
    body: ActionIn,
    idempotency_key: str = Header(  # type: ignore[type-arg]
        ..., alias="Idempotency-Key", min_length=8, max_length=200
    ),
) -> Status[dict[str, Any]]:
    user = key_of(request).user
    done = action_submit(
        user=user,
        kind=ActionKind(body.kind),
        target=_target(body),
        params=body.params,
        reason_code=body.reason_code,
        reason_text=body.reason_text,
        idempotency_key=action_key_for_client(user=user, client_key=idempotency_key),
        ip=client_ip(request) or None,
    )
    finished = done.status in (ActionRequest.Status.SUCCEEDED, ActionRequest.Status.FAILED)
    return Status(200 if finished else 202, request_out(done))


@router.get("/actions/{request_id}", response={200: RequestOut, **ERRORS}, summary="One request")
def request_detail(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    found = ActionRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise NotFound(f"No action request with id {request_id}.")
    return request_out(found)
