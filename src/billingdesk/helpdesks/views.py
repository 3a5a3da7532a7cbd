"""Views shared by every embedded panel: the shell page, the panel API, agent sign-in, tickets.

Each helpdesk package's ``views`` checks its own proof, then calls ``shell_response`` (iframe
helpdesks) or renders its own answer (Help Scout HTML, Intercom canvas).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billingdesk.accounts import twofactor
from billingdesk.accounts.login import code_verify, pending_start
from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.accounts.sso_state import sign_in_context, sso_only
from billingdesk.billing.identity import normalize_email
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import (
    BillingdeskError,
    OperationalError,
    SignatureInvalid,
    UserFacingError,
)
from billingdesk.core.parsing import json_loads, parse_id
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.interface import EmbedFamily, Launch
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.services import ticket_create_with_context
from billingdesk.panel.offers import offer_actions
from billingdesk.panel.selectors import panel_data

logger = logging.getLogger(__name__)


def refuse(
    connection: HelpdeskConnection | None, reason: str, *, status: int = 401, as_json: bool = False
) -> HttpResponse:
    """A 4xx with a reason and no data, framable by the connection's helpdesk (if known)."""
    if as_json:
        response: HttpResponse = JsonResponse({"error": reason}, status=status)
    else:
        response = HttpResponse(
            render_to_string("helpdesks/refused.html", {"reason": reason}), status=status
        )
    return embed.embed_headers(response, connection)


def shell_response(
    request: HttpRequest, connection: HelpdeskConnection, launch: Launch, *, mode: str
) -> HttpResponse:
    """The page the helpdesk frames: our launch token in JS memory, no billing data yet."""
    from billingdesk.helpdesks.chatwoot.provider import instance_origin

    config = {
        "token": embed.launch_token_issue(connection, launch),
        "mode": mode,
        "panelUrl": reverse("helpdesks:panel-api"),
        "renewUrl": reverse("helpdesks:renew-api"),
        "renewEvery": (embed.EMBED_TOKEN_TTL * 2 // 3) * 1000,
        "signinUrl": reverse("helpdesks:signin", kwargs={"connection_id": connection.pk}),
        "chatwootOrigin": instance_origin(connection) if mode == "chatwoot" else "",
        "vouched": bool(launch.agent_email),
    }
    response = render(
        request,
        "helpdesks/shell.html",
        {"config": config, "connection": connection, "mode": mode},
    )
    return embed.embed_headers(response, connection)


def _bearer_session(request: HttpRequest) -> embed.EmbedSession:
    return embed.session_from_request(request)


@csrf_exempt  # Bearer-authenticated: no ambient credential a forged request could ride on
@require_GET
def panel_api(request: HttpRequest) -> HttpResponse:
    """The compact panel for the customer of the current ticket, as an HTML fragment in JSON."""
    try:
        session = _bearer_session(request)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, as_json=True)
    conn = session.connection
    hint = (request.GET.get("email") or "").strip()
    if len(hint) > 320:
        return refuse(conn, "email is too long", status=400, as_json=True)
    if session.launch.customer_email:
        email = session.launch.customer_email  # vouched by the signed proof: hints are ignored
    elif session.provider.family is EmbedFamily.HOSTED or conn.kind in ("zendesk", "front"):
        # The proof vouched for the helpdesk account; its agents may look up any customer.
        email = hint
    elif session.user is not None:
        email = hint  # e.g. Chatwoot: only a signed-in billingdesk user may follow the hint
    else:
        return embed.embed_headers(
            JsonResponse(
                {"error": "Sign in to billingdesk to see billing data here.", "signin": True},
                status=403,
            ),
            conn,
        )
    normalized = normalize_email(email) if email else ""
    if email and not normalized:
        return refuse(conn, f"{email[:100]!r} is not an email address", status=400, as_json=True)
    user = session.user
    role = role_of(user) if user is not None else Role.READ_ONLY  # type: ignore[arg-type]
    data = None
    matches = person_resolve(email=normalized) if normalized else []
    if matches:
        data = panel_data(matches[0].person.pk)
        if user is not None:
            # The panel's own action buttons, for this agent; the page opens them in a
            # first-party window, where the agent's billingdesk session applies.
            request.user = user  # type: ignore[assignment]
            offer_actions(request, data)
    html = render_to_string(
        "helpdesks/fragment.html",
        {
            "data": data,
            "email": normalized,
            "role": role,
            "agent": user,
            "can_act": ROLE_RANK[role] >= ROLE_RANK[Role.AGENT],
            "other_matches": len(matches) - 1 if matches else 0,
        },
        request=request,
    )
    payload: dict[str, Any] = {
        "html": html,
        "person_id": data.person.pk if data else None,
        "read_only": ROLE_RANK[role] < ROLE_RANK[Role.AGENT],
        "agent": user.get_username() if user is not None else "",
    }
    return embed.embed_headers(JsonResponse(payload), conn)


@csrf_exempt  # Bearer-authenticated
@require_POST
def renew_api(request: HttpRequest) -> HttpResponse:
    """``POST /embed/api/renew/``: exchange a still-valid panel token for a fresh one."""
    try:
        token = embed.launch_token_renew(request)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, as_json=True)
    return JsonResponse({"token": token, "expires_in": embed.EMBED_TOKEN_TTL})


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest, connection_id: str) -> HttpResponse:
    """The first-party popup an agent signs in through; hands the frame an agent token.

    The popup is a top-level window on our origin, so the ordinary session cookie works here
    even where the iframe has no cookies; the token goes back with ``postMessage`` to the
    frame that opened it, on our own origin only. The sign-in form is served here rather than
    by redirecting to the login page: that page's ``Cross-Origin-Opener-Policy: same-origin``
    would cut the popup from its opener (a frame inside the helpdesk's page), so this view
    sends ``unsafe-none`` instead.
    """
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return render(request, "helpdesks/refused.html", {"reason": exc.message}, status=404)
    if request.method == "POST" and "code" in request.POST:
        outcome = code_verify(request)  # the second step: the TOTP code
        if outcome.response is not None:
            return _popup_headers(outcome.response)
        if not outcome.ok:
            return _code_page(request, connection, outcome.error)
    elif not request.user.is_authenticated:
        form = AuthenticationForm(request, data=request.POST if request.method == "POST" else None)
        valid = request.method == "POST" and form.is_valid()
        if valid and sso_only() and not form.get_user().is_superuser:
            form.add_error(None, _("Sign in with single sign-on: passwords are turned off."))
            valid = False
        if not valid:
            status = 400 if request.method == "POST" else 200
            response = render(
                request,
                "helpdesks/signin.html",
                {"form": form, "connection": connection, **sign_in_context(request)},
                status=status,
            )
            return _popup_headers(response)
        new_user = form.get_user()
        if twofactor.has_device(new_user):
            pending_start(request, new_user, next_url=request.path)
            return _code_page(request, connection, "")
        auth_login(request, new_user)
    if not twofactor.session_satisfied(request):
        owing = request.user
        assert isinstance(owing, AbstractBaseUser)
        if twofactor.has_device(owing):
            return _code_page(request, connection, "")
        reason = _("Your role needs two-factor sign-in: set it up in billingdesk first.")
        return _popup_headers(
            render(request, "helpdesks/refused.html", {"reason": reason}, status=403)
        )
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    token = embed.agent_token_issue(connection, user, request=request)
    response = render(
        request,
        "helpdesks/signin_done.html",
        {"message": {"type": "billingdesk-agent", "token": token}, "connection": connection},
    )
    return _popup_headers(response)


def _code_page(request: HttpRequest, connection: HelpdeskConnection, error: str) -> HttpResponse:
    response = render(
        request,
        "helpdesks/signin_code.html",
        {"connection": connection, "error": error},
        status=400 if error else 200,
    )
    return _popup_headers(response)


def _popup_headers(response: HttpResponse) -> HttpResponse:
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    # Not "no-referrer": the browser would then send "Origin: null" with the form, which the
    # CSRF check rightly refuses. No token ever travels in this page's URLs.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


# --- ticket API -----------------------------------------------------------------------------


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json_loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise UserFacingError("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise UserFacingError("The body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    """A text field of the body: missing or null is '', anything but a string is refused
    (a list or an object is not written into a ticket as its Python repr)."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserFacingError(f"{name} must be a string.")
    return value


def _opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    number = parse_id(value)  # ASCII digits within 63 bits: no "²", no 2**70
    if number is None:
        raise UserFacingError(f"{name} must be a whole number.")
    return number


def _ticket_proven(
    request: HttpRequest, connection: HelpdeskConnection, body: dict[str, Any]
) -> bool:
    """Whether the embedded panel's signed proof (``Authorization: Bearer``) names this ticket.

    A proof that names its customer also fixes the requester: a note for someone else is
    refused rather than written into that conversation.
    """
    if not request.headers.get("Authorization"):
        return False
    try:
        session = embed.session_from_request(request)
    except SignatureInvalid as exc:
        raise UserFacingError(exc.message) from None
    if session.connection.pk != connection.pk:
        raise UserFacingError("The panel token belongs to another helpdesk connection.")
    launch = session.launch
    requester = normalize_email(str(body.get("requester_email", "")))
    if launch.customer_email and normalize_email(launch.customer_email) != requester:
        raise UserFacingError("requester_email is not the customer of this conversation.")
    ticket_id = str(body.get("ticket_id", "") or "")
    return bool(ticket_id) and ticket_id == launch.conversation_id


@require_POST
def ticket_api(request: HttpRequest, connection_id: str) -> HttpResponse:
    """``POST /api/helpdesks/<connection>/tickets/``: open a ticket with a billing note.

    Body: ``{"requester_email", "subject", "message"?, "requester_name"?, "ticket_id"?,
    "external_id"?, "person_id"?, "document_id"?}``. Signed-in agents (session + CSRF) only,
    until API keys exist. ``person_id``, ``document_id`` and ``ticket_id`` must be the
    requester's (``services``); a panel's ``Authorization: Bearer`` token proves the ticket.
    """
    user = request.user
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return JsonResponse({"error": "Sign in first."}, status=401)
    if ROLE_RANK[role_of(user)] < ROLE_RANK[Role.AGENT]:
        return JsonResponse({"error": "Read-only agents cannot open tickets."}, status=403)
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid:
        return JsonResponse({"error": "No such helpdesk connection."}, status=404)
    try:
        body = _json_body(request)
        ticket_proven = _ticket_proven(request, connection, body)
        outcome = ticket_create_with_context(
            connection=connection,
            requester_email=_text(body, "requester_email"),
            subject=_text(body, "subject"),
            message=_text(body, "message"),
            requester_name=_text(body, "requester_name"),
            ticket_id=_text(body, "ticket_id"),
            external_id=_text(body, "external_id"),
            person_id=_opt_int(body, "person_id"),
            document_id=_opt_int(body, "document_id"),
            ticket_proven=ticket_proven,
        )
    except UserFacingError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=400)
    except OperationalError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=503)
    except BillingdeskError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=400)
    return JsonResponse(
        {
            "ticket_id": outcome.ticket_id,
            "url": outcome.url,
            "note_id": outcome.note_id,
            "created": outcome.created,
            "person_id": outcome.person_id,
        },
        status=201 if outcome.created else 200,
    )
