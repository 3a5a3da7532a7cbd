"""Intercom Canvas Kit endpoints: ``initialize`` and ``submit`` (Inbox conversation details).

Every request's raw body is checked against ``X-Body-Signature`` before anything is read. The
signed ``admin`` is mapped to a billingdesk user through the connection's agent links or its
allowed email domains (``identity.agent_user_resolve``): actions run as that user (its role
and refund limits apply); without one the canvas is read-only.

Refund and cancel go through three submits: the form (amount, reason), the preview (the
actions layer's own effect lines) and the confirm, which calls ``action_submit`` with an
idempotency key issued at the preview step, so a double click never acts twice.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import (
    action_key_issue,
    action_preview,
    action_submit,
    request_outcome,
)
from billingdesk.billing.identity import normalize_email
from billingdesk.billing.models import Charge, Mirrored, Subscription
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import OperationalError, SignatureInvalid, UserFacingError
from billingdesk.core.parsing import json_loads, parse_id
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.identity import agent_user_resolve
from billingdesk.helpdesks.intercom import canvas, verification
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.notes import billing_link_page, person_link
from billingdesk.panel.selectors import panel_data

MAX_BODY = 256 * 1024


def _signed_body(
    request: HttpRequest, connection_id: str
) -> tuple[HelpdeskConnection, dict[str, Any]]:
    connection = embed.connection_get(connection_id)
    if connection.kind != "intercom" or len(request.body) > MAX_BODY:
        raise SignatureInvalid("not an Intercom connection")
    verification.verify(
        request.body, request.headers.get("X-Body-Signature"), connection.secret("client_secret")
    )
    try:
        body = json_loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise SignatureInvalid("the body is not JSON") from None
    if not isinstance(body, dict):
        raise SignatureInvalid("the body is not a JSON object")
    workspace = connection.setting("workspace_id")
    given = str(body.get("workspace_id") or body.get("app_id") or "")
    if workspace and given != workspace:
        raise SignatureInvalid("the request comes from another workspace")
    return connection, body


def _agent(connection: HelpdeskConnection, body: dict[str, Any]) -> AbstractBaseUser | None:
    admin = body.get("admin")
    if not isinstance(admin, dict):
        return None
    email, admin_id = admin.get("email"), admin.get("id")
    return agent_user_resolve(
        connection,
        email=email if isinstance(email, str) else "",
        agent_id=str(admin_id) if isinstance(admin_id, str | int) else "",
    )


def _can_act(user: AbstractBaseUser | None) -> bool:
    return user is not None and ROLE_RANK[role_of(user)] >= ROLE_RANK[Role.AGENT]  # type: ignore[arg-type]


def _contact_email(body: dict[str, Any]) -> str:
    contact = body.get("contact") or body.get("customer")
    return normalize_email(str(contact.get("email") or "")) if isinstance(contact, dict) else ""


def _home(body: dict[str, Any], user: AbstractBaseUser | None, note: str = "") -> dict[str, Any]:
    email = _contact_email(body)
    matches = person_resolve(email=email) if email else []
    data = panel_data(matches[0].person.pk, limit=canvas.ROWS) if matches else None
    if not note and user is None and data is not None:
        note = "Read-only: this teammate is not linked to a billingdesk user."
    return canvas.person_canvas(
        data,
        email=email,
        link=person_link(data.person.pk) if data else "",
        billing_link=billing_link_page(data.person.pk) if data else "",
        can_act=_can_act(user),
        note=note,
    )


def _refused(exc: SignatureInvalid) -> JsonResponse:
    return JsonResponse({"error": exc.message}, status=401)


@csrf_exempt  # Intercom's servers call us; the body signature is the proof
@require_POST
def initialize(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        conn, body = _signed_body(request, connection_id)
    except SignatureInvalid as exc:
        return _refused(exc)
    return JsonResponse(_home(body, _agent(conn, body)))


def _target(ref: str, person_ids: set[int]) -> Mirrored | None:
    """A charge or subscription of the contact's person (``charge:12``, ``sub:3``)."""
    kind, _, text = ref.partition(":")
    pk = parse_id(text)  # ASCII digits within 63 bits, or None
    if pk is None:
        return None
    if kind == "charge":
        return (
            Charge.objects.filter(pk=pk, customer__person_id__in=person_ids)
            .select_related("account")
            .first()
        )
    if kind == "sub":
        return (
            Subscription.objects.filter(pk=pk, customer__person_id__in=person_ids)
            .select_related("account")
            .first()
        )
    return None


def _inputs(body: dict[str, Any]) -> dict[str, str]:
    values = body.get("input_values") or {}
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


def _stored(body: dict[str, Any]) -> dict[str, Any]:
    current = body.get("current_canvas") or {}
    stored = current.get("stored_data") if isinstance(current, dict) else None
    return stored if isinstance(stored, dict) else {}


def _params(stored: dict[str, Any]) -> dict[str, Any]:
    params = stored.get("params")
    return dict(params) if isinstance(params, dict) else {}


@csrf_exempt
@require_POST
def submit(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        conn, body = _signed_body(request, connection_id)
    except SignatureInvalid as exc:
        return _refused(exc)
    user = _agent(conn, body)
    component = str(body.get("component_id") or "")
    if component in ("back", "open", "") or not _can_act(user):
        return JsonResponse(_home(body, user))
    assert user is not None
    email = _contact_email(body)
    person_ids = {m.person.pk for m in person_resolve(email=email)} if email else set()
    stored = _stored(body)
    ref = component if ":" in component else str(stored.get("target", ""))
    target = _target(ref, person_ids)
    if target is None:
        return JsonResponse(canvas.message("That record is not this contact's."))
    kind = ActionKind.REFUND if isinstance(target, Charge) else ActionKind.CANCEL_SUBSCRIPTION
    if ":" in component:  # a row was clicked: the form
        state: dict[str, Any] = {"target": ref}
        form = canvas.refund_form if isinstance(target, Charge) else canvas.cancel_form
        return JsonResponse(form(target, state))  # type: ignore[arg-type]
    try:
        if component == "review":
            values = _inputs(body)
            params: dict[str, Any] = (
                {"amount": values.get("amount", "")}
                if kind is ActionKind.REFUND
                else {"at_period_end": values.get("when", "period_end") != "now"}
            )
            preview = action_preview(user=user, kind=kind, target=target, params=params)  # type: ignore[arg-type]
            if not preview.allowed:
                return JsonResponse(canvas.message(preview.refusal))
            state = {
                "target": ref,
                "params": preview.params,
                "reason_code": values.get("reason_code", ""),
                "reason_text": values.get("reason_text", "")[:2000],
                "key": action_key_issue(user=user),  # type: ignore[arg-type]
            }
            return JsonResponse(canvas.confirm(preview, state))
        if component == "confirm":
            done = action_submit(
                user=user,  # type: ignore[arg-type]
                kind=kind,
                target=target,
                params=_params(stored),
                reason_code=str(stored.get("reason_code", "")),
                reason_text=str(stored.get("reason_text", "")),
                idempotency_key=str(stored.get("key", "")),
            )
            if done.status == ActionRequest.Status.PENDING_APPROVAL:
                note = f"Request #{done.pk} is waiting for finance's approval."
            elif done.status == ActionRequest.Status.SUCCEEDED:
                note = f"Done: {kind.label} ({done.pk})."
            else:  # being processed by another submission, failed, denied: say which
                note = f"Request #{done.pk}: {request_outcome(done)[1]}"
            return JsonResponse(_home(body, user, note=note))
    except UserFacingError as exc:
        return JsonResponse(canvas.message(exc.message, style="error"))
    except OperationalError as exc:
        return JsonResponse(
            canvas.message(f"The gateway did not answer ({exc.message}). Try again.", style="error")
        )
    return JsonResponse(_home(body, user))
