"""Single sign-on for agents through OpenID Connect (mozilla-django-oidc, code flow + PKCE).

Configured by the environment (``BILLINGDESK_OIDC_*``, see docs/sso.md); off when no client
id is set, and then every SSO URL answers 404 and the backend authenticates no one.

What billingdesk adds to the library, which checks the ID token's signature (JWKS), expiry
and nonce but neither its issuer nor its audience:

* the ID token must come from the configured issuer, be meant for this client (``aud``, and
  ``azp`` when there are several audiences) and carry ``sub``, ``iat`` and ``exp``; the
  userinfo answer must be about the same ``sub``;
* users are found by **issuer + subject** (``SSOIdentity``), not by email; on a first
  sign-in an existing active user with the same verified email is linked once, otherwise a
  new user is created with no usable password;
* **roles**: with ``BILLINGDESK_SSO_ROLES`` (``admin=it-admins,finance=accounting,...``) the
  role comes from the IdP's group claim at every sign-in (the highest mapped role wins; a
  change is audited); without a mapping, roles are given in billingdesk's admin. A user with
  no role yet is created but **not signed in** ("ask an administrator for a role");
* every sign-in, refusal, first creation and role change is in the audit log;
* the session counts as two-factor verified (the IdP is the second factor's owner), and
  ``SSORefresh`` sends SSO sessions (only those) back to the IdP when the ID token's lifetime
  has passed, so a user disabled at the IdP loses access within that time.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import get_random_string
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from billingdesk.accounts import twofactor
from billingdesk.accounts.models import ROLE_RANK, AgentProfile, Role, SSOIdentity
from billingdesk.accounts.sso_state import REFUSAL_KEY, SSO_SESSION_KEY, sso_enabled
from billingdesk.actions.audit import audit_record

log = logging.getLogger(__name__)


def role_map() -> dict[str, Role]:
    """``BILLINGDESK_SSO_ROLES`` as {group: role}: ``admin=a,b;finance=c`` or with commas
    between roles (``admin=a,finance=c``)."""
    mapping: dict[str, Role] = {}
    raw = str(getattr(settings, "BILLINGDESK_SSO_ROLES", "") or "")
    role: Role | None = None
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            name, group = (s.strip() for s in part.split("=", 1))
            role = Role(name)  # checked at start-up (config.checks): a bad name is refused there
            part = group
        if role is not None and part:
            mapping[part] = role
    return mapping


def _groups(claims: dict[str, Any]) -> list[str]:
    """The IdP's groups / roles claim (``BILLINGDESK_SSO_GROUPS_CLAIM``, dotted for nested
    claims such as Keycloak's ``realm_access.roles``)."""
    value: Any = claims
    for key in str(getattr(settings, "BILLINGDESK_SSO_GROUPS_CLAIM", "groups")).split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def mapped_role(claims: dict[str, Any]) -> Role | None:
    """The highest role the user's groups map to (None: no mapped group)."""
    mapping = role_map()
    roles = [mapping[g] for g in _groups(claims) if g in mapping]
    return max(roles, key=lambda r: ROLE_RANK[r]) if roles else None


def _audit(user: Any, action: str, result: str, **fields: Any) -> None:
    audit_record(actor=user if isinstance(user, User) else None, action=action, result=result,
                 **fields)  # fmt: skip


class Refused(SuspiciousOperation):
    """An SSO sign-in refused for a reason the person is told."""

    def __init__(self, reason: str, who: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.who = who


class SSOBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """The OIDC backend with billingdesk's checks (issuer, audience, subject), identities by
    issuer + subject, role mapping and audit. Inert while SSO is not configured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.enabled = sso_enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not self.enabled or request is None or "nonce" not in kwargs:
            return None  # a password sign-in, or SSO off: not ours
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, ValueError) as exc:  # the IdP down, or garbled
            log.warning("single sign-on: the identity provider failed: %s", exc)
            try:
                self._refuse("failed")
            except Refused:
                return None
        except Refused:
            return None  # recorded where it was raised

    def _refuse(self, reason: str, who: str = "") -> None:
        """Tell the person why (on the sign-in page), audit it, and stop the sign-in."""
        self.request.session[REFUSAL_KEY] = reason
        _audit(None, "sso_sign_in", "refused", actor_name=f"sso {who}".strip()[:300],
               reason_code=reason[:40])  # fmt: skip
        raise Refused(reason, who)

    # -- the tokens ----------------------------------------------------------------------
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = super().verify_token(token, **kwargs)
        except (SuspiciousOperation, jwt.InvalidTokenError, KeyError, TypeError) as exc:
            # Bad signature or algorithm (``none`` included), unknown key, expired, wrong nonce.
            log.warning("single sign-on: ID token refused: %s", exc)
            self._refuse("invalid_token")
        if kwargs.get("nonce") is None:  # a JWT userinfo answer: its sub is compared below
            return payload
        issuer = str(getattr(settings, "OIDC_OP_ISSUER", ""))
        client = self.OIDC_RP_CLIENT_ID
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != issuer:
            self._refuse("wrong_issuer")
        if client not in audiences:
            self._refuse("wrong_audience")
        if len(audiences) > 1 and payload.get("azp") != client:
            self._refuse("wrong_audience")
        if not all(payload.get(k) for k in ("sub", "exp", "iat")):
            self._refuse("incomplete_token")
        self.id_claims = payload
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
                self._refuse("userinfo_mismatch")  # OIDC Core 5.3.2
            claims.update(info)
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    # -- the user ------------------------------------------------------------------------
    def filter_users_by_claims(self, claims: dict[str, Any]) -> list[User]:
        issuer = str(getattr(settings, "OIDC_OP_ISSUER", ""))
        found = SSOIdentity.objects.filter(issuer=issuer, subject=str(claims["sub"]))
        users = [identity.user for identity in found.select_related("user")]
        if users:
            return users
        email = str(claims.get("email") or "")
        if email and claims.get("email_verified") is not False:
            same = list(get_user_model().objects.filter(email__iexact=email, is_active=True)[:2])
            if len(same) == 1:  # link an existing account once, by its verified email
                SSOIdentity.objects.create(user=same[0], issuer=issuer, subject=claims["sub"])
                return same
        return []

    def create_user(self, claims: dict[str, Any]) -> User:
        email = str(claims.get("email") or "")
        base = str(claims.get("preferred_username") or email.split("@")[0] or "sso-user")[:120]
        username = base
        model = get_user_model()
        while model.objects.filter(username=username).exists():
            username = f"{base}-{get_random_string(4).lower()}"
        with transaction.atomic():
            user = model.objects.create_user(
                username=username,
                email=email,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            SSOIdentity.objects.create(
                user=user, issuer=str(settings.OIDC_OP_ISSUER), subject=str(claims["sub"])
            )
            _audit(user, "sso_user_created", "succeeded", target_id=str(user.pk))
        return self.update_user(user, claims)

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        if not user.is_active:
            self._refuse("deactivated", user.get_username())
        if role_map():
            self._role_sync(user, mapped_role(claims))
        if not user.is_superuser and not AgentProfile.objects.filter(user=user).exists():
            self._refuse("no_role", user.get_username())
        SSOIdentity.objects.filter(user=user, subject=str(claims["sub"])).update(
            last_sign_in=timezone.now()
        )
        return user

    def _role_sync(self, user: User, role: Role | None) -> None:
        """The IdP's groups decide the role: set, changed or taken away (audited)."""
        profile = AgentProfile.objects.filter(user=user).first()
        before = profile.role if profile else ""
        if role is None:
            if profile is not None:
                profile.delete()
                _audit(user, "role_changed", "succeeded", target_id=str(user.pk),
                       reason_code=f"{before}->none"[:40])  # fmt: skip
            return
        if profile is None:
            AgentProfile.objects.create(user=user, role=role)
        elif profile.role != role:
            profile.role = role
            profile.save(update_fields=["role"])
        else:
            return
        _audit(user, "role_changed", "succeeded", target_id=str(user.pk),
               reason_code=f"{before or 'none'}->{role}"[:40])  # fmt: skip


def _enabled_or_404() -> None:
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")


def _opener_kept(response: HttpResponse) -> HttpResponse:
    # The helpdesk panel's sign-in popup goes through SSO and must stay linked to the frame
    # that opened it (its own sign-in page sends the same).
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


class SSOStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]
    """``/oidc/authenticate/``: off (404) unless SSO is configured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if sso_enabled():
            super().__init__(*args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled_or_404()
        request.session.pop(REFUSAL_KEY, None)
        return _opener_kept(super().get(request))


class SSOCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """``/oidc/callback/``: signs the user in, marks the session as made by SSO (two-factor
    satisfied by the IdP), audits it; a refusal goes back to the sign-in page with its reason."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled_or_404()
        return _opener_kept(super().get(request))

    @property
    def failure_url(self) -> str:
        return "/login/?sso=refused"

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        self.request.session[SSO_SESSION_KEY] = True
        self.request.session[twofactor.SESSION_KEY] = "ok"
        _audit(self.user, "sso_sign_in", "succeeded", target_id=str(self.user.pk))
        return response


class SSORefresh(SessionRefresh):  # type: ignore[misc]
    """Re-checks SSO sessions with the IdP when their ID token's lifetime has passed; password
    sessions are left alone."""

    def process_request(self, request: HttpRequest) -> Any:
        if not sso_enabled() or not request.session.get(SSO_SESSION_KEY):
            return None
        return super().process_request(request)
