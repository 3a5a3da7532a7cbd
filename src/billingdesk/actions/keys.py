"""Idempotency keys: one per action form, signed for the agent it was issued to."""

from __future__ import annotations

import hashlib
import uuid

from django.core import signing

from billingdesk.actions.rules import User
from billingdesk.core.errors import InvalidRequest

_KEY_SALT = "billingdesk.actions.key"
_KEY_MAX_AGE = 24 * 3600


def action_key_issue(*, user: User) -> str:
    """A fresh idempotency key to embed in one action form, usable only by this agent."""
    return signing.dumps({"u": user.pk, "n": uuid.uuid4().hex}, salt=_KEY_SALT, compress=True)


def key_nonce(*, user: User, key: str) -> str:
    """The key's unique part, once it is shown to be ours, unexpired and issued to ``user``."""
    try:
        data = signing.loads(key, salt=_KEY_SALT, max_age=_KEY_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidRequest("This form has expired. Reload it and try again.") from None
    except signing.BadSignature:
        raise InvalidRequest("This form's key is not valid. Reload it and try again.") from None
    if not isinstance(data, dict) or data.get("u") != user.pk or not data.get("n"):
        raise InvalidRequest("This form was not issued to you. Reload it and try again.")
    return str(data["n"])


def action_key_for_client(*, user: User, client_key: str) -> str:
    """The form key standing for an API client's own ``Idempotency-Key``.

    The same client key from the same identity always maps to the same request, so a retried
    call is answered from its first request; another identity's same key is another request.
    """
    digest = hashlib.sha256(f"{user.pk}:{client_key}".encode()).hexdigest()
    return signing.dumps({"u": user.pk, "n": f"api-{digest[:60]}"}, salt=_KEY_SALT, compress=True)
