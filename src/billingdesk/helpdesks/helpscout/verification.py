"""Help Scout's Dynamic Content request: ``X-HelpScout-Signature`` over the raw body.

Reference: shared/reference/helpdesks.md §2.1 (helpscout-apps-php ``DynamicApp.php``,
pypi/warehouse ``admin/views/helpscout.py``): base64(HMAC-SHA1(secret, raw body)). The body
carries no timestamp, so a replay cannot be told apart; the signed ``user`` names the agent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from billingdesk.core.errors import SignatureInvalid


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.digest(secret.encode(), body, hashlib.sha1)).decode()


def verify(body: bytes, header: str | None, secret: str) -> None:
    if not secret:
        raise SignatureInvalid("the Help Scout connection has no secret key")
    if not header:
        raise SignatureInvalid("missing X-HelpScout-Signature")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("X-HelpScout-Signature is not base64") from None
    expected = hmac.digest(secret.encode(), body, hashlib.sha1)
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("X-HelpScout-Signature does not match the body")
