"""Intercom Canvas Kit requests: ``X-Body-Signature`` = hex(HMAC-SHA256(client_secret, raw body)).

Reference: shared/reference/helpdesks.md §3.1. The body carries no timestamp; the signed
``admin`` object names the teammate looking, so actions can be authorised server-side.
"""

from __future__ import annotations

import hashlib
import hmac

from billingdesk.core.errors import SignatureInvalid


def signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> None:
    if not secret:
        raise SignatureInvalid("the Intercom connection has no client secret")
    if not header:
        raise SignatureInvalid("missing X-Body-Signature")
    if not hmac.compare_digest(signature(body, secret), header.strip().lower()):
        raise SignatureInvalid("X-Body-Signature does not match the body")
