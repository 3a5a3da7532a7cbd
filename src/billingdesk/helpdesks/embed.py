"""The launch-token handshake, Bearer checks and framing headers of embedded panels.

Reference: shared/reference/helpdesks.md §1.2 and §1.3.

1. A helpdesk loads an entry URL with its proof (JWT, HMAC, shared secret). The entry view checks
   it once, through the helpdesk package's ``verification`` module.
2. ``launch_token_issue`` mints our own token: signed with ``SECRET_KEY`` (Django signing,
   HMAC-SHA256), timestamped, valid ``EMBED_TOKEN_TTL`` seconds, naming the connection and only
   what the proof vouched for. Stateless on purpose: any web process checks it without a shared
   table; a connection is revoked by disabling it, which every use re-reads.
3. The page keeps it in JavaScript memory and sends it as ``Authorization: Bearer …``; nothing
   depends on a cookie inside the iframe (third-party cookies are blocked by Safari and Chrome).
4. Where the helpdesk does not vouch for the agent, the agent may sign in to billingdesk once in
   a first-party popup; the popup hands the frame an *agent token* (``agent_token_issue``), bound
   to the same connection, sent as ``X-Billingdesk-Agent``. Without it the panel is read-only.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.http import HttpRequest, HttpResponse

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.interface import Launch, Provider
from billingdesk.helpdesks.models import HelpdeskConnection, origin_clean
from billingdesk.helpdesks.registry import provider_for

EMBED_TOKEN_TTL = 15 * 60
# A panel left open (Front keeps its plugin loaded) renews its token before it expires, but
# never past this long after the helpdesk's proof was checked.
EMBED_SESSION_MAX_AGE = 8 * 60 * 60
AGENT_TOKEN_TTL = 8 * 60 * 60
_LAUNCH_SALT = "billingdesk.helpdesks.launch"
_AGENT_SALT = "billingdesk.helpdesks.agent"
AGENT_HEADER = "X-Billingdesk-Agent"


@dataclass(frozen=True, slots=True)
class EmbedSession:
    """A checked Bearer token: the connection, what the proof vouched for, and the agent."""

    connection: HelpdeskConnection
    provider: Provider
    launch: Launch
    user: AbstractBaseUser | None  # a billingdesk user the actions run as; None = read-only


def connection_get(connection_id: Any) -> HelpdeskConnection:
    """An enabled connection, or ``SignatureInvalid`` (an unknown id is just a bad proof)."""
    try:
        conn = HelpdeskConnection.objects.get(pk=uuid.UUID(str(connection_id)), enabled=True)
    except (ValueError, HelpdeskConnection.DoesNotExist):
        raise SignatureInvalid("unknown or disabled helpdesk connection") from None
    return conn


def launch_token_issue(
    connection: HelpdeskConnection,
    launch: Launch,
    *,
    user_id: int | None = None,
    proven_at: int | None = None,
) -> str:
    claims: dict[str, Any] = {
        "c": str(connection.pk),
        "k": connection.kind,
        "jti": uuid.uuid4().hex,
        # When the helpdesk's proof was checked (renewals keep it).
        "o": int(time.time()) if proven_at is None else proven_at,
    }
    if launch.agent_email:
        claims["ae"] = launch.agent_email
    if launch.agent_name:
        claims["an"] = launch.agent_name
    if launch.customer_email:
        claims["ce"] = launch.customer_email
    if launch.conversation_id:
        claims["cv"] = launch.conversation_id
    if user_id is not None:
        claims["u"] = user_id
    return signing.dumps(claims, salt=_LAUNCH_SALT, compress=True)


def agent_token_issue(connection: HelpdeskConnection, user: AbstractBaseUser) -> str:
    return signing.dumps({"c": str(connection.pk), "u": user.pk}, salt=_AGENT_SALT)


def _loads(token: str, salt: str, max_age: int) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise SignatureInvalid("the panel token has expired: reload the panel") from None
    except signing.BadSignature:
        raise SignatureInvalid("the panel token is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        raise SignatureInvalid("the panel token is not valid")
    return data


def _active_user(**lookup: Any) -> AbstractBaseUser | None:
    users = list(get_user_model().objects.filter(is_active=True, **lookup)[:2])
    return users[0] if len(users) == 1 else None


def session_from_request(request: HttpRequest) -> EmbedSession:
    """Check the Bearer token (and the optional agent token) of an embedded panel's request."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureInvalid("missing Authorization: Bearer token")
    claims = _loads(token.strip(), _LAUNCH_SALT, EMBED_TOKEN_TTL)
    connection = connection_get(claims["c"])
    if claims.get("k") != connection.kind:
        raise SignatureInvalid("the panel token is not valid")
    launch = Launch(
        agent_email=str(claims.get("ae", "")),
        agent_name=str(claims.get("an", "")),
        customer_email=str(claims.get("ce", "")),
        conversation_id=str(claims.get("cv", "")),
    )
    user: AbstractBaseUser | None = None
    if isinstance(claims.get("u"), int):
        user = _active_user(pk=claims["u"])
    elif launch.agent_email:
        user = _active_user(email__iexact=launch.agent_email)
    agent_token = request.headers.get(AGENT_HEADER, "").strip()
    if user is None and agent_token:
        agent = _loads(agent_token, _AGENT_SALT, AGENT_TOKEN_TTL)
        if agent["c"] != claims["c"] or not isinstance(agent.get("u"), int):
            raise SignatureInvalid("the sign-in token belongs to another helpdesk connection")
        user = _active_user(pk=agent["u"])
    return EmbedSession(
        connection=connection,
        provider=provider_for(connection.kind),
        launch=launch,
        user=user,
    )


def launch_token_renew(request: HttpRequest) -> str:
    """A fresh token for a panel whose current token is still valid (sliding, bounded)."""
    session = session_from_request(request)
    header = request.headers.get("Authorization", "")
    claims = _loads(header.partition(" ")[2].strip(), _LAUNCH_SALT, EMBED_TOKEN_TTL)
    proven_at = claims.get("o")
    if not isinstance(proven_at, int) or proven_at < time.time() - EMBED_SESSION_MAX_AGE:
        raise SignatureInvalid("the panel has been open too long: reload it")
    user_id = claims.get("u") if isinstance(claims.get("u"), int) else None
    return launch_token_issue(
        session.connection, session.launch, user_id=user_id, proven_at=proven_at
    )


# --- framing ------------------------------------------------------------------------------


def frame_origins(connection: HelpdeskConnection) -> list[str]:
    """The helpdesk's own origins (Zendesk subdomain, Front, Chatwoot…) plus configured ones."""
    defaults = provider_for(connection.kind).default_frame_origins(connection)
    clean: list[str] = []
    for origin in [*defaults, *(connection.allowed_frame_origins or [])]:
        try:
            value = origin_clean(origin)
        except Exception:  # noqa: S112 - a bad stored value must not widen framing
            continue
        if value not in clean:
            clean.append(value)
    return clean


def frame_ancestors(connection: HelpdeskConnection | None) -> str:
    origins = frame_origins(connection) if connection is not None else []
    return "frame-ancestors " + (" ".join(origins) if origins else "'none'")


def embed_headers(response: HttpResponse, connection: HelpdeskConnection | None) -> HttpResponse:
    """Let only the connection's helpdesk frame this response; keep tokens out of referrers."""
    response["Content-Security-Policy"] = frame_ancestors(connection)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response
