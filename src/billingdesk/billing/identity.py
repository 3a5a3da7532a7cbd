"""Normalising the keys persons are matched on, so that the same human compares equal."""

from __future__ import annotations

import phonenumbers
from django.conf import settings

# Providers that ignore dots in the local part and route "+tag" to the same mailbox.
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def normalize_email(email: str | None) -> str:
    """Lower-case, trim, drop a ``+tag``; for Gmail also drop dots. '' when not an address."""
    value = (email or "").strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain:
        return ""
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else ""


def normalize_phone(phone: str | None, *, region: str | None = None) -> str:
    """E.164 form (``+33612345678``), or '' when the text is not a plausible number."""
    value = (phone or "").strip()
    if not value:
        return ""
    try:
        parsed = phonenumbers.parse(value, (region or settings.DEFAULT_PHONE_REGION).upper())
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_last4(value: str | None) -> str:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""
