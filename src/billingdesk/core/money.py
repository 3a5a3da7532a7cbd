"""Money as integer minor units plus an ISO 4217 code; never a float. The one way to read and
to show it.

Amounts cross every boundary (database, gateway interface, API) as ``int`` minor units. The
exponent table covers the currencies whose minor unit is not 2 (the gateways' contract).

Reading: ``parse_amount`` is the only parser of an amount a person typed. It is strict and
locale-aware (Babel's ``parse_decimal(strict=True)`` with the active language's symbols):
``1,000`` is a thousand in English and refused as ambiguous nowhere silently; exponents,
underscores, signs and non-ASCII digits are refused. Currencies are checked against ISO 4217
(Babel's CLDR currency list).

Showing: ``money_format`` (Babel, the active language: ``€19.00``, ``19,00 €``), used by
``Money.__str__``, the template filter, the panel, notes, emails and the CLI; ``day_format`` and
``moment_format`` for dates ("3 Dec 2026", "3 Dec 2026, 09:14" in the agent's locale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    is_currency,
    parse_decimal,
)
from django.conf import settings
from django.utils import timezone, translation

# ISO 4217 currencies whose minor unit is not 1/100.
_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])

# Largest amount accepted from a person: fits a signed 64-bit column with room to add.
MAX_MINOR_UNITS = 10**15


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


@lru_cache(maxsize=512)
def _is_iso_currency(code: str) -> bool:
    return is_currency(code)


def normalise_currency(currency: str) -> str:
    """Upper-case a currency code, refusing anything that is not an ISO 4217 code."""
    code = (currency or "").strip().upper() if isinstance(currency, str) else ""
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not _is_iso_currency(code):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return code


def active_locale(locale: str | None = None) -> str:
    """A Babel locale name for ``locale`` or the active language (``fr``, ``en_GB``)."""
    language = locale or translation.get_language() or settings.LANGUAGE_CODE
    return _babel_locale(language)


@lru_cache(maxsize=64)
def _babel_locale(language: str) -> str:
    name = language.replace("-", "_")
    try:
        return str(Locale.parse(name))
    except (UnknownLocaleError, ValueError):
        return "en"


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", normalise_currency(self.currency))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __str__(self) -> str:
        """As people read it, in the active language (``€10.50``): see ``money_format``."""
        return money_format(self.amount, self.currency)


# -- showing money ---------------------------------------------------------------------------


def money_format(amount: object, currency: object, *, locale: str | None = None) -> str:
    """``amount`` minor units of ``currency`` as Babel writes it for ``locale`` (default: the
    active language). '' for a missing amount or anything that is not an integer amount (a
    template asking for a field the row does not have), so display never fails."""
    if amount is None or amount == "" or isinstance(amount, bool):
        return ""
    if not isinstance(amount, int):
        try:
            amount = int(str(amount))
        except ValueError:
            return ""
    return _formatted(amount, str(currency or "").upper(), active_locale(locale))


@lru_cache(maxsize=8192)
def _formatted(amount: int, currency: str, locale: str) -> str:
    # Cached: a panel shows the same few amounts many times.
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        return f"{amount} (minor units)"
    digits = str(abs(amount))
    shape = _shape(currency, locale, amount < 0, len(digits))
    if shape is None:
        return _babel(amount, currency, locale)
    text, positions = shape
    chars = list(text)
    for position, digit in zip(positions, digits, strict=True):
        chars[position] = digit
    return "".join(chars)


@lru_cache(maxsize=1024)
def _shape(
    currency: str, locale: str, negative: bool, length: int
) -> tuple[str, tuple[int, ...]] | None:
    """How Babel writes any amount of ``length`` digits (and this sign) in this currency and
    locale: the text for 99…9 and where its digits are, to be replaced by the amount's.

    Babel takes ~40 µs a call and amounts rarely repeat. Its output depends only on the number
    of digits and the sign (the fraction digits are fixed by the currency, the grouping by the
    number of integer digits), so one call per shape does. None when the digits cannot be found
    one for one (padded small amounts, native digits): those go to Babel each time.
    """
    probe = int("9" * length) * (-1 if negative else 1)
    text = _babel(probe, currency, locale)
    positions = tuple(i for i, char in enumerate(text) if char == "9")
    if len(positions) != length or sum(char.isdigit() for char in text) != length:
        return None
    return text, positions


def _babel(amount: int, currency: str, locale: str) -> str:
    value = Decimal(amount).scaleb(-currency_exponent(currency))
    try:
        return format_currency(value, currency, locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_currency(value, currency, locale="en")


def amount_text(amount: int, currency: str, *, locale: str | None = None) -> str:
    """Minor units as a plain number a form field holds and ``parse_amount`` reads back in the
    same locale (``12.50`` in English, ``12,50`` in French): no symbol, no grouping."""
    exp = currency_exponent(currency)
    pattern = "0." + "0" * exp if exp else "0"
    value = Decimal(amount).scaleb(-exp)
    return format_decimal(value, format=pattern, locale=active_locale(locale))


# -- reading money ---------------------------------------------------------------------------

_SPACES = re.compile(r"[ \u00a0\u202f]")


def parse_amount(text: str, currency: str, *, locale: str | None = None) -> int:
    """Read an amount a person typed ("12.50", "1,200.50"; "12,50" in French) into minor
    units, in the active language (or ``locale``).

    Strict: only ASCII digits and the locale's decimal and grouping symbols (spaces count as
    the grouping symbol where it is a space); grouping must be where the locale puts it, so
    ``1,000`` is a thousand in English and ``1,00`` is refused rather than guessed. Refuses
    negatives, zero, more decimals than the currency has, amounts too large to be real, and
    anything not a number, with a message that can be shown as is.
    """
    code = normalise_currency(currency)
    exp = currency_exponent(code)
    loc = active_locale(locale)
    raw = (text if isinstance(text, str) else "").strip()
    if raw.startswith(("-", "\u2212")):
        raise ValueError("the amount must be more than zero")
    decimal_symbol = get_decimal_symbol(loc)
    group_symbol = get_group_symbol(loc)
    if _SPACES.fullmatch(group_symbol):
        cleaned = _SPACES.sub(group_symbol, raw)
    else:
        cleaned = _SPACES.sub("", raw)
    allowed = set("0123456789") | {decimal_symbol, group_symbol}
    if not cleaned or len(cleaned) > 40 or any(char not in allowed for char in cleaned):
        raise ValueError(f"{_shown(text)} is not an amount")
    if not any(char.isdigit() for char in cleaned):
        raise ValueError(f"{_shown(text)} is not an amount")
    try:
        value = parse_decimal(cleaned, locale=loc, strict=True)
    except NumberFormatError as exc:
        tips = getattr(exc, "suggestions", None) or []
        hint = f" (did you mean {' or '.join(tips)}?)" if tips else ""
        raise ValueError(f"{_shown(text)} is not an amount{hint}") from None
    if not value.is_finite():
        raise ValueError(f"{_shown(text)} is not an amount")
    if value <= 0:
        raise ValueError("the amount must be more than zero")
    minor = value.scaleb(exp)
    if minor != minor.to_integral_value():
        raise ValueError(f"{code} amounts have at most {exp} decimals")
    if minor > MAX_MINOR_UNITS:
        raise ValueError("the amount is too large")
    return int(minor)


def _shown(text: object) -> str:
    value = text if isinstance(text, str) else ""
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


# -- showing dates ---------------------------------------------------------------------------


def day_format(
    value: datetime | date | None, tz: tzinfo | None = None, *, locale: str | None = None
) -> str:
    """A day as the agent's locale writes it (Babel's medium date: ``Dec 3, 2026`` in
    English, ``3 déc. 2026`` in French), in ``tz`` (default: the current time zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(tz or timezone.get_current_timezone())
        value = value.date()
    return _day(value, active_locale(locale))


@lru_cache(maxsize=8192)
def _day(value: date, locale: str) -> str:
    # Cached per day: a panel writes a hundred dates, over a few years of days.
    return format_date(value, "medium", locale=locale)


def moment_format(
    value: datetime | None, tz: tzinfo | None = None, *, locale: str | None = None
) -> str:
    """A day and time as the agent's locale writes it (``Dec 3, 2026, 9:14 AM``, ``3 déc. 2026,
    09:14``), in ``tz`` (default: the current time zone); the day as ``day_format`` has it."""
    if value is None:
        return ""
    if value.utcoffset() is not None:
        value = value.astimezone(tz or timezone.get_current_timezone())
    loc = active_locale(locale)
    naive = value.replace(tzinfo=None)
    return _moment_pattern(loc).format(
        format_time(naive, "short", locale=loc), _day(naive.date(), loc)
    )


@lru_cache(maxsize=64)
def _moment_pattern(locale: str) -> str:
    """The locale's way to join a medium date and a short time ("{1}, {0}")."""
    pattern = Locale.parse(locale).datetime_formats.get("medium", "{1}, {0}")
    return str(pattern).replace("'", "")
