"""Freshdesk app requests: the connection's app key, injected by the Freshworks proxy.

Reference: shared/reference/helpdesks.md §6.1. The app package declares the key as a *secure*
installation parameter and sends it in ``X-Billingdesk-Key`` through a request template, so it
never reaches the agent's browser. It vouches for the Freshdesk account, not for the agent.
"""

from __future__ import annotations

import hmac

from billingdesk.core.errors import SignatureInvalid

HEADER = "X-Billingdesk-Key"


def verify(given: str | None, secret: str) -> None:
    if not secret:
        raise SignatureInvalid("the Freshdesk connection has no app key")
    if not given or not hmac.compare_digest(given.strip().encode(), secret.encode()):
        raise SignatureInvalid(f"{HEADER} does not match")
