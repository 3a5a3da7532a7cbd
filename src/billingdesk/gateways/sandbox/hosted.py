"""Signed links to the sandbox gateway's own hosted pages: pay an invoice, update a card.

The links carry no state of their own beyond a signed, expiring token naming the account and
the object, like the hosted pages of a real gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from billingdesk.core.errors import NotFound

_PAY_SALT = "billingdesk.sandbox.pay"
_CARD_SALT = "billingdesk.sandbox.card"
PAY_LINK_AGE = timedelta(days=90)
CARD_LINK_AGE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LinkTarget:
    account_id: str
    object_id: str
    return_url: str = ""


def pay_url(*, account_id: str, invoice_id: str) -> str:
    token = signing.dumps({"a": account_id, "o": invoice_id}, salt=_PAY_SALT, compress=True)
    return settings.BASE_URL + reverse("sandbox:pay", kwargs={"token": token})


def card_url(*, account_id: str, customer_id: str, return_url: str) -> str:
    token = signing.dumps(
        {"a": account_id, "o": customer_id, "r": return_url}, salt=_CARD_SALT, compress=True
    )
    return settings.BASE_URL + reverse("sandbox:card", kwargs={"token": token})


def read_pay_token(token: str) -> LinkTarget:
    return _read(token, _PAY_SALT, PAY_LINK_AGE)


def read_card_token(token: str) -> LinkTarget:
    return _read(token, _CARD_SALT, CARD_LINK_AGE)


def _read(token: str, salt: str, max_age: timedelta) -> LinkTarget:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise NotFound("This link has expired.") from None
    except signing.BadSignature:
        raise NotFound("This link is not valid.") from None
    if not isinstance(value, dict) or not {"a", "o"} <= value.keys():
        raise NotFound("This link is not valid.")
    return LinkTarget(
        account_id=str(value["a"]), object_id=str(value["o"]), return_url=str(value.get("r", ""))
    )
