"""The launch-token handshake, Bearer checks and framing headers of embedded panels.

Reference: shared/reference/helpdesks.md §1.2 and §1.3.

1. A helpdesk loads an entry URL with its proof (JWT, HMAC, shared secret). The entry view checks
   it once, through the helpdesk package's ``verification`` module.
2. ``launch_token_issue`` mints our own token: signed with ``SECRET_KEY`` (Django signing,
   HMAC-SHA256), timestamped, valid ``EMBED_TOKEN_TTL`` seconds, naming the connection, its
   ``secret_version`` and only what the proof vouched for. Stateless on purpose: any web
   process checks it without a shared table; every use re-reads the connection, so disabling
   it or changing its secrets (which bumps the version) revokes every token issued before.
3. The page keeps it in JavaScript memory and sends it as ``Authorization: Bearer …``; nothing
   depends on a cookie inside the iframe (third-party cookies are blocked by Safari and Chrome).
4. Where the helpdesk does not vouch for the agent, the agent may sign in to billingdesk once in
   a first-party popup; the popup hands the frame an *agent token* (``agent_token_issue``), bound
   to the same connection and secret version, to the agent's password (its session auth
   hash) and to the billingdesk session it was issued from (the session key, encrypted): signing
   out, or the session expiring, revokes it. Sent as ``X-Billingdesk-Agent``; without it the
   panel is read-only.
5. Which user a vouched-for agent acts as is ``identity.agent_user_resolve``: an administered
   link or an allowed email domain, never an email match alone.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from billingdesk.core import crypto
from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.identity import agent_user_resolve
from billingdesk.helpdesks.interface import Launch, Provider
from billingdesk.helpdesks.models import HelpdeskConnection, UsedProof, origin_clean
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
        "sv": connection.secret_version,
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


def _password_tag(user: AbstractBaseUser) -> str:
    # Changes with the password (as Django's session hash does), without exposing that hash.
    return salted_hmac(_AGENT_SALT, user.get_session_auth_hash()).hexdigest()[:32]


def agent_token_issue(
    connection: HelpdeskConnection, user: AbstractBaseUser, *, request: HttpRequest
) -> str:
    """An agent token for the user signed in on ``request``'s session (see 4. above)."""
    if request.session.session_key is None:
        request.session.save()
    session_key = str(request.session.session_key)
    claims = {
        "c": str(connection.pk),
        "u": user.pk,
        "sv": connection.secret_version,
        "p": _password_tag(user),
        "s": crypto.encrypt(session_key),
    }
    return signing.dumps(claims, salt=_AGENT_SALT)


def _agent_from_token(token: str, connection: HelpdeskConnection) -> AbstractBaseUser | None:
    agent = _loads(token, _AGENT_SALT, AGENT_TOKEN_TTL)
    if agent["c"] != str(connection.pk) or not isinstance(agent.get("u"), int):
        raise SignatureInvalid("the sign-in token belongs to another helpdesk connection")
    if agent.get("sv") != connection.secret_version:
        raise SignatureInvalid("the sign-in token was revoked: sign in again")
    user = _active_user(pk=agent["u"])
    if user is None or not hmac.compare_digest(str(agent.get("p", "")), _password_tag(user)):
        raise SignatureInvalid("the sign-in token was revoked: sign in again")
    try:
        session_key = crypto.decrypt(str(agent.get("s", "")))
    except Exception:
        raise SignatureInvalid("the sign-in token is not valid") from None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if str(store.load().get("_auth_user_id", "")) != str(user.pk):
        raise SignatureInvalid("you signed out of billingdesk: sign in again")
    return user


def proof_use_once(
    connection: HelpdeskConnection, *, kind: str, value: str, expires_at: float
) -> None:
    """Accept a one-time proof once; a replay (any process, any time before it expires) is
    ``SignatureInvalid``. Expired entries are pruned as new ones arrive."""
    key = hashlib.sha256(f"{connection.pk}\x00{kind}\x00{value}".encode()).hexdigest()
    now = timezone.now()
    expires = max(datetime.fromtimestamp(expires_at, tz=UTC), now)
    try:
        with transaction.atomic():
            UsedProof.objects.create(key=key, expires_at=expires)
    except IntegrityError:
        raise SignatureInvalid("this signed request was already used: reload the panel") from None
    UsedProof.objects.filter(expires_at__lt=now).delete()


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
    if claims.get("sv") != connection.secret_version:
        raise SignatureInvalid("the panel token was revoked: reload the panel")
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
        user = agent_user_resolve(connection, email=launch.agent_email)
    agent_token = request.headers.get(AGENT_HEADER, "").strip()
    if user is None and agent_token:
        user = _agent_from_token(agent_token, connection)
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
