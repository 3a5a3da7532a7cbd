"""Timestamped HMAC-SHA256 signatures in the Stripe scheme: ``t=<unix>,v1=<hex>``.

billingdesk signs with it wherever it chooses the scheme itself (sandbox gateway webhooks,
custom-gateway pushes, outgoing action webhooks) so that one verifier serves them all, and
merchants can reuse Stripe tooling. The signed string is ``f"{t}.{raw_body}"``; several ``v1``
entries may appear during secret rotation and any one matching is enough; comparison is in
constant time; a timestamp older than the tolerance is refused (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from billingdesk.core.errors import SignatureInvalid

DEFAULT_TOLERANCE = 300


def compute_signature(body: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={compute_signature(body, secret, ts)}"


def verify_header(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a ``t=…,v1=…`` header against the raw body; return its timestamp or raise."""
    if not header:
        raise SignatureInvalid("missing signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid("signature timestamp is not a number") from None
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("signature header lacks t= or v1=")
    expected = compute_signature(body, secret, timestamp)
    # Check every candidate so the time taken does not depend on which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureInvalid("signature does not match the body")
    current = time.time() if now is None else now
    # Both ways: a signature dated far ahead would otherwise stay replayable until then.
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureInvalid("signature timestamp is outside the tolerance")
    return timestamp
