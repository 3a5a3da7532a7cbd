"""Money as integer minor units plus an ISO 4217 code; never a float.

Amounts cross every boundary (database, gateway interface, API) as ``int`` minor units. The
exponent table covers the currencies whose minor unit is not 2; Babel formats amounts for
display in later work.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 1/100.
_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def normalise_currency(currency: str) -> str:
    """Upper-case a currency code, refusing anything that is not three letters."""
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return code


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
        exp = currency_exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**exp)
        return (
            f"{sign}{units}.{minor:0{exp}d} {self.currency}"
            if exp
            else f"{sign}{units} {self.currency}"
        )


def parse_amount(text: str, currency: str) -> int:
    """Read an amount a person typed ("12.50", "12,50", "1 200") into minor units.

    Refuses negatives, zero, more decimals than the currency has, and anything not a number,
    with a message that can be shown as is.
    """
    exp = currency_exponent(currency)
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount")
    if value <= 0:
        raise ValueError("the amount must be more than zero")
    minor = value.scaleb(exp)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency.upper()} amounts have at most {exp} decimals")
    return int(minor)
