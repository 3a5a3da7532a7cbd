"""Front sidebar plugins: the ``auth_secret`` query parameter Front appends to the plugin URL.

Reference: shared/reference/helpdesks.md §5.1 (https://dev.frontapp.com/docs/security). A static
secret per app instance: it vouches for the Front account, not for the teammate.
"""

from __future__ import annotations

import hmac

from billingdesk.core.errors import SignatureInvalid


def verify(given: str | None, secret: str) -> None:
    if not secret:
        raise SignatureInvalid("the Front connection has no auth secret")
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise SignatureInvalid("auth_secret does not match")
