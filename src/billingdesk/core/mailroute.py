"""Reply routing addresses: ``billing+<token>@<inbound domain>`` naming a document and person.

The token is ``<document id>.<person id>.<mac>`` (ids in base 36, ``0`` for no person) where
``mac`` is the first 80 bits of HMAC-SHA256 over the ids, in lower-case base 32 so that an MTA
that folds the local part's case does not break it. Nobody can make a valid address for another
document without the key; ids alone are useless.

Keys: ``BILLINGDESK_INBOUND_KEYS`` lists them newest first (comma separated). Addresses are
signed with the first and verified against all of them, so a key can be rotated in by putting
the new one first and retired, once the replies to old emails have died down, by removing it.
With no key configured one is derived from ``SECRET_KEY`` (HKDF), so a demo needs no setup.
Verification compares in constant time and checks every key whatever matched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_MAC_BYTES = 10
_TOKEN = re.compile(r"^([0-9a-z]{1,13})\.([0-9a-z]{1,13})\.([a-z2-7]{16})$")


@dataclass(frozen=True, slots=True)
class ReplyRoute:
    document_id: int
    person_id: int | None


def _keys() -> list[bytes]:
    keys = [k.encode() for k in getattr(settings, "BILLINGDESK_INBOUND_KEYS", []) if k]
    if keys:
        return keys
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"billingdesk reply routing"
    ).derive(settings.SECRET_KEY.encode())
    return [derived]


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _mac(key: bytes, ids: str) -> str:
    digest = hmac.new(key, b"billingdesk-reply:" + ids.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_MAC_BYTES]).decode().lower()


def reply_token(document_id: int, person_id: int | None) -> str:
    ids = f"{_b36(document_id)}.{_b36(person_id or 0)}"
    return f"{ids}.{_mac(_keys()[0], ids)}"


def reply_domain() -> str:
    return str(getattr(settings, "BILLINGDESK_INBOUND_DOMAIN", "") or "").strip().lower()


def reply_localpart() -> str:
    return str(getattr(settings, "BILLINGDESK_INBOUND_LOCALPART", "") or "billing").lower()


def reply_address(document_id: int, person_id: int | None) -> str:
    """The Reply-To of a document's email, or '' when no inbound domain is configured."""
    domain = reply_domain()
    if not domain:
        return ""
    return f"{reply_localpart()}+{reply_token(document_id, person_id)}@{domain}"


def route_verify(token: str) -> ReplyRoute | None:
    """The document and person a token names, or None when it is not one of ours."""
    match = _TOKEN.match((token or "").strip().lower())
    if match is None:
        return None
    doc36, person36, given = match.groups()
    ids = f"{doc36}.{person36}"
    matched = False
    for key in _keys():  # every key, so the time does not say which one matched
        matched |= hmac.compare_digest(_mac(key, ids), given)
    if not matched:
        return None
    person = int(person36, 36)
    return ReplyRoute(int(doc36, 36), person or None)


def address_route(address: str) -> ReplyRoute | None:
    """The route of a recipient address ``billing+<token>@<domain>``, if it is a valid one."""
    local, at, domain = (address or "").strip().strip("<>").lower().rpartition("@")
    if not at or domain != reply_domain() or not domain:
        return None
    base, plus, token = local.partition("+")
    if not plus or base != reply_localpart():
        return None
    return route_verify(token)


def address_is_ours(address: str) -> bool:
    """Whether a recipient is an inbound address: the bare one or a valid routing address."""
    local, at, domain = (address or "").strip().strip("<>").lower().rpartition("@")
    if not at or not reply_domain() or domain != reply_domain():
        return False
    if local == reply_localpart():
        return True
    return address_route(address) is not None
