"""API keys: made (shown once), revoked, and checked on every request.

A key reads ``bdk_<prefix>_<secret>``: the 12-character prefix finds the row (and names the
key in lists and logs), the secret's SHA-256 digest is compared in constant time. Every way a
key can fail (unknown, wrong, revoked, expired, from an address not allowed, over its rate,
missing the scope) raises ``KeyRefused`` with the HTTP status to answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.api.models import ApiKey, ApiKeyWindow, Scope
from billingdesk.core.errors import InvalidRequest, NotFound

PREFIX_LENGTH = 12
_LAST_USED_EVERY = timedelta(seconds=60)
# A (very) wrong key's digest is still computed and compared, so a missing prefix and a wrong
# secret take the same time.
_DUMMY = hashlib.sha256(b"no such key").hexdigest()


class KeyRefused(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def networks_clean(text: str) -> list[str]:
    """The allow-list as normalised networks; ``InvalidRequest`` names a bad line."""
    found = []
    for line in (text or "").replace(",", "\n").splitlines():
        value = line.strip()
        if not value:
            continue
        try:
            found.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise InvalidRequest(f"{value!r} is not an IP address or network") from None
    return found


def scopes_clean(scopes: Iterable[str]) -> list[str]:
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in Scope.values]
    if unknown:
        raise InvalidRequest(
            f"unknown scope {', '.join(unknown)} (choose from {', '.join(Scope.values)})"
        )
    if not wanted:
        raise InvalidRequest("a key needs at least one scope")
    return wanted


KEY_ROLES = (Role.AGENT, Role.FINANCE)


def role_clean(role: str, scopes: list[str]) -> Role:
    """Actions run with an agent's (or finance's) rights and limits; other keys act on nothing."""
    if Scope.ACTIONS not in scopes:
        if role and role != Role.READ_ONLY:
            raise InvalidRequest("only a key with the 'actions' scope can have a role")
        return Role.READ_ONLY
    if not role:
        return Role.AGENT
    if role not in KEY_ROLES:
        raise InvalidRequest(f"a key's role is one of {', '.join(KEY_ROLES)}")
    return Role(role)


def apikey_create(
    *,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    allowed_ips: str = "",
    rate_limit_per_minute: int = 120,
    created_by: User | None = None,
    role: str = "",
) -> tuple[ApiKey, str]:
    """A new key and its full text, which is never shown again.

    ``role`` is the service identity's role for the action rules: ``agent`` (the default for
    a key with ``actions``: agents' limits and approvals apply) or ``finance`` (also decides
    approval requests); a key without ``actions`` is read-only.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidRequest("a key needs a name of 1 to 200 characters")
    clean_scopes = scopes_clean(scopes)
    networks = networks_clean(allowed_ips)
    if not 1 <= rate_limit_per_minute <= 100_000:
        raise InvalidRequest("the rate limit must be between 1 and 100000 requests a minute")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidRequest("the expiry must be in the future")
    role = role_clean(role, clean_scopes)
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            user = User.objects.create(
                username=f"apikey-{prefix}", first_name="API key", last_name=name[:150]
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            AgentProfile.objects.create(user=user, role=role)
            key = ApiKey.objects.create(
                name=name,
                prefix=prefix,
                digest=_digest(secret),
                scopes=clean_scopes,
                user=user,
                expires_at=expires_at,
                allowed_ips="\n".join(networks),
                rate_limit_per_minute=rate_limit_per_minute,
                created_by=created_by,
            )
    except IntegrityError:
        raise InvalidRequest(f"a key named {name!r} exists already") from None
    return key, f"bdk_{prefix}_{secret}"


def apikey_revoke(*, prefix: str) -> ApiKey:
    prefix = prefix.removeprefix("bdk_").split("_", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        User.objects.filter(pk=key.user_id).update(is_active=False)
    return key


def apikey_authenticate(*, token: str, ip: str | None, scope: str) -> ApiKey:
    """The key this token is, if it may use ``scope`` from ``ip`` now (one request counted)."""
    prefix, secret = _split(token)
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first() if prefix else None
    good = hmac.compare_digest(key.digest if key else _DUMMY, _digest(secret))
    if key is None or not good:
        raise KeyRefused(401, "invalid_key", "This API key is not valid.")
    if key.revoked_at is not None:
        raise KeyRefused(401, "key_revoked", "This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise KeyRefused(401, "key_expired", "This API key has expired.")
    if not _ip_allowed(key, ip):
        raise KeyRefused(403, "ip_not_allowed", f"This API key may not be used from {ip}.")
    if scope not in key.scopes:
        raise KeyRefused(403, "scope_missing", f"This API key lacks the {scope!r} scope.")
    _count(key)
    return key


def _split(token: str) -> tuple[str, str]:
    token = (token or "").strip()
    if not token.startswith("bdk_") or len(token) < 4 + PREFIX_LENGTH + 2:
        return "", token
    prefix, sep, secret = token[4:].partition("_")
    if len(prefix) != PREFIX_LENGTH or not sep:
        return "", token
    return prefix, secret


def _ip_allowed(key: ApiKey, ip: str | None) -> bool:
    if not key.allowed_ips.strip():
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False  # fail closed: an allow-list and no readable address
    for line in key.allowed_ips.splitlines():
        try:
            if address in ipaddress.ip_network(line.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _count(key: ApiKey) -> None:
    """Count this request in the key's current minute; refuse past the limit.

    Fails closed: when the counter cannot be written, the request is refused (503), not let
    through uncounted.
    """
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    try:
        with transaction.atomic():
            ApiKeyWindow.objects.get_or_create(key=key, minute=minute)
            counted = ApiKeyWindow.objects.filter(
                key=key, minute=minute, count__lt=key.rate_limit_per_minute
            ).update(count=F("count") + 1)
            if counted:
                ApiKeyWindow.objects.filter(key=key, minute__lt=minute).delete()
                if key.last_used_at is None or now - key.last_used_at > _LAST_USED_EVERY:
                    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    except DatabaseError:
        raise KeyRefused(
            503, "rate_limit_unavailable", "The rate limiter is unavailable; try again.",
            retry_after=5,
        ) from None  # fmt: skip
    if not counted:
        wait = 60 - now.second
        raise KeyRefused(
            429,
            "rate_limited",
            f"This API key is limited to {key.rate_limit_per_minute} requests a minute.",
            retry_after=wait,
        )
