"""The generic signed iframe URL, for any helpdesk able to embed a page.

The helpdesk's server (or whoever builds the sidebar URL) signs the query string with the
connection's ``signing_secret``::

    signed = urlencode(sorted((name, value) for every parameter except "sig"))
    sig    = hex(HMAC-SHA256(signing_secret, signed))

Parameters: ``email`` (the customer, vouched), ``agent`` (optional: the agent's email, vouched),
``conversation`` (optional), ``ts`` (Unix seconds, required). A URL is refused when ``ts`` is
more than ``TOLERANCE`` seconds old or more than ``FUTURE_SKEW`` ahead.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from urllib.parse import urlencode

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.interface import Launch

TOLERANCE = 300
FUTURE_SKEW = 60
SIGNED_PARAMS = frozenset({"email", "agent", "conversation", "ts"})


def canonical(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(sorted((k, v) for k, v in pairs if k != "sig"))


def sign(params: dict[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(params.items()).encode(), hashlib.sha256).hexdigest()


def verify(pairs: list[tuple[str, str]], secret: str, *, now: float | None = None) -> Launch:
    """Check a signed iframe query string (as ordered pairs); return what it vouches for."""
    if not secret:
        raise SignatureInvalid("the connection has no signing secret")
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise SignatureInvalid("a parameter appears twice")
    params = dict(pairs)
    unknown = set(params) - SIGNED_PARAMS - {"sig"}
    if unknown:
        raise SignatureInvalid("unexpected parameters: " + ", ".join(sorted(unknown))[:100])
    given = params.get("sig", "")
    expected = sign(params, secret)
    if not given or not hmac.compare_digest(expected, given):
        raise SignatureInvalid("the signature does not match")
    try:
        ts = int(params.get("ts", ""))
    except ValueError:
        raise SignatureInvalid("ts is not a Unix time") from None
    current = time.time() if now is None else now
    if ts < current - TOLERANCE or ts > current + FUTURE_SKEW:
        raise SignatureInvalid("the signed URL has expired: reload the page")
    return Launch(
        customer_email=params.get("email", "").strip(),
        agent_email=params.get("agent", "").strip(),
        conversation_id=params.get("conversation", "").strip()[:120],
    )


def signed_query(
    secret: str, *, email: str, agent: str = "", conversation: str = "", ts: int | None = None
) -> str:
    """The query string of a signed iframe URL (for the docs, the CLI and tests)."""
    params = {"email": email, "ts": str(int(time.time()) if ts is None else ts)}
    if agent:
        params["agent"] = agent
    if conversation:
        params["conversation"] = conversation
    return urlencode({**params, "sig": sign(params, secret)})
