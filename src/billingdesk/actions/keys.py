"""Idempotency keys: one per action form, signed for the agent it was issued to."""

from __future__ import annotations

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
