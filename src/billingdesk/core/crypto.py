"""Encryption at rest for secrets kept in the database (gateway and helpdesk credentials).

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``, wrapped in MultiFernet so keys can
be rotated: ``BILLINGDESK_ENCRYPTION_KEYS`` lists keys newest first; values written with an
older key still decrypt and are re-encrypted with the newest on the next save. With no key
configured, one is derived from ``SECRET_KEY`` with HKDF so that a demo needs no setup.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "fernet:"


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"billingdesk credentials"
        ).derive(settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(derived).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "BILLINGDESK_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes)"
        ) from exc


def encrypt(plaintext: str) -> str:
    return _PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("value is not an encrypted billingdesk secret")
    try:
        return _fernet().decrypt(token[len(_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: the encryption key changed. Put the old key "
            "back at the end of BILLINGDESK_ENCRYPTION_KEYS."
        ) from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; reads return the plaintext."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        # An empty column stays empty (not None): a NOT NULL column must save back as it was.
        return value if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)


class EncryptedJSONField(models.TextField):  # type: ignore[type-arg]
    """A JSON object stored encrypted; reads return the decoded object."""

    description = "JSON encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return {} if value in (None, "") else json.loads(decrypt(value))  # type: ignore[arg-type]

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value if value is not None else {}

    def get_prep_value(self, value: Any) -> Any:
        return encrypt(json.dumps(value or {}, sort_keys=True))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))
