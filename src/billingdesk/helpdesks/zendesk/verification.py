"""Zendesk's signed request: an RS256 JWT posted as form field ``token`` to the iframe's URL.

Reference: shared/reference/helpdesks.md §4.1 (thunderbird-accounts' ``zendesk_sidebar.py``).
Checked: signature with the app's public key (``GET /api/v2/apps/{app_id}/public_key.pem``),
``aud`` = ``https://{subdomain}.zendesk.com/api/v2/apps/installations/{installation_id}.json``,
``iss`` = the account's host, ``exp`` and ``iat`` present, ``iat`` not older than ``MAX_AGE``.
The token vouches for the *installation*, not for the agent. A token is accepted once: its
``jti`` (or, without one, the token itself) goes to the caller's ``replay`` check, which
refuses one already seen (``embed.proof_use_once``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import jwt

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.interface import Launch

LEEWAY = 30
MAX_AGE = 10 * 60


def audience(subdomain: str, installation_id: str) -> str:
    return f"https://{subdomain}.zendesk.com/api/v2/apps/installations/{installation_id}.json"


def verify(
    token: str,
    *,
    public_key_pem: str,
    subdomain: str,
    installation_id: str,
    now: float | None = None,
    replay: Callable[[str, float], None] | None = None,
) -> Launch:
    if not token:
        raise SignatureInvalid("Zendesk sent no signed token")
    if not (public_key_pem and subdomain and installation_id):
        raise SignatureInvalid("the Zendesk connection lacks its public key or installation id")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key_pem,
            algorithms=["RS256"],
            audience=audience(subdomain, installation_id),
            options={"require": ["exp", "iat", "iss"], "verify_exp": now is None},
            leeway=LEEWAY,
        )
    except jwt.ExpiredSignatureError:
        raise SignatureInvalid("the Zendesk token has expired") from None
    except jwt.InvalidKeyError:
        raise SignatureInvalid("the Zendesk connection's public key is not a PEM key") from None
    except (jwt.PyJWTError, ValueError):
        raise SignatureInvalid("the Zendesk token does not verify") from None
    host = f"{subdomain}.zendesk.com"
    if str(claims.get("iss", "")).removeprefix("https://").rstrip("/") != host:
        raise SignatureInvalid("the Zendesk token was issued for another account")
    current = time.time() if now is None else now
    try:
        iat, exp = float(claims["iat"]), float(claims["exp"])
    except (TypeError, ValueError):
        raise SignatureInvalid("the Zendesk token's times are not numbers") from None
    if exp < current - LEEWAY or iat < current - MAX_AGE or iat > current + LEEWAY:
        raise SignatureInvalid("the Zendesk token has expired")
    context = claims.get("context")
    if isinstance(context, dict) and context.get("product", "support") != "support":
        raise SignatureInvalid("the Zendesk token is for another product")
    if replay is not None:
        jti = claims.get("jti")
        once = jti if isinstance(jti, str) and jti else hashlib.sha256(token.encode()).hexdigest()
        replay(once, max(exp, iat + MAX_AGE) + LEEWAY)
    return Launch()
