"""Exchange rates for Art. 230 of the VAT directive: an EU seller may invoice in any currency,
but the VAT must also be stated in its member state's national currency, converted at the
ECB's latest reference rate (Art. 91(2)) on the date the VAT becomes chargeable.

Rates are data, not a network call: ``billingdesk documents_load_rates FILE`` loads the ECB's
CSV (``eurofxref.csv`` or ``eurofxref-hist.csv``: a ``Date`` column and one column per
currency, each value the number of units for 1 EUR). A small sample ships in
``data/ecb-eurofxref-sample.csv``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from billingdesk.core.errors import InvalidRequest
from billingdesk.core.money import currency_exponent
from billingdesk.documents.models import ExchangeRate
from billingdesk.documents.tax import EU_COUNTRIES

SAMPLE_FILE = Path(__file__).with_name("data") / "ecb-eurofxref-sample.csv"

# Member states outside the euro area and their currencies; every other one uses EUR.
# Bulgaria uses the euro from 1 January 2026 (Council Decision (EU) 2025/1407).
_NATIONAL = {"CZ": "CZK", "DK": "DKK", "HU": "HUF", "PL": "PLN", "RO": "RON", "SE": "SEK"}
_BG_EURO = date(2026, 1, 1)


def national_currency(country: str, on: date) -> str | None:
    """The currency a member state's VAT is stated in; None outside the EU."""
    if country not in EU_COUNTRIES:
        return None
    if country == "BG":
        return "EUR" if on >= _BG_EURO else "BGN"
    return _NATIONAL.get(country, "EUR")


@dataclass(frozen=True)
class Converted:
    currency: str
    tax: int
    rate: Decimal  # 1 unit of the document's currency = rate units of ``currency``
    rate_date: date
    source: str

    def as_json(self, from_currency: str) -> dict[str, str | int]:
        return {
            "currency": self.currency,
            "tax": self.tax,
            "rate": format(self.rate.normalize(), "f"),
            "rate_date": self.rate_date.isoformat(),
            "source": self.source,
            "from": from_currency,
        }


def _per_eur(currency: str, on: date) -> tuple[Decimal, date, str]:
    if currency == "EUR":
        return Decimal(1), on, "ECB"
    rate = ExchangeRate.objects.filter(currency=currency, day__lte=on).order_by("-day").first()
    if rate is None:
        raise InvalidRequest(
            f"no reference rate for {currency} on or before {on.isoformat()}: load the ECB "
            "rates with `billingdesk documents_load_rates FILE`",
            code="exchange_rate_missing",
        )
    return rate.per_eur, rate.day, rate.source


def vat_in_national_currency(
    *, seller_country: str, currency: str, tax: int, on: date
) -> Converted | None:
    """The document's VAT in the seller's national currency, or None when the document is in
    that currency already (or the seller is not in the EU)."""
    national = national_currency(seller_country, on)
    if national is None or national == currency:
        return None
    doc_per_eur, doc_day, source = _per_eur(currency, on)
    nat_per_eur, nat_day, _ = _per_eur(national, on)
    rate = (nat_per_eur / doc_per_eur).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    value = Decimal(tax).scaleb(-currency_exponent(currency)) * nat_per_eur / doc_per_eur
    minor = int(
        value.scaleb(currency_exponent(national)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    return Converted(national, minor, rate, min(doc_day, nat_day), source)


def rates_load(text: str, *, source: str = "ECB") -> int:
    """Store the rates of an ECB reference-rates CSV; returns how many were new or changed.
    Raises ``InvalidRequest`` with the line at fault on anything it cannot read."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InvalidRequest("the rates file is empty") from None
    if not header or header[0] != "Date":
        raise InvalidRequest("not an ECB reference rates CSV: the first column must be Date")
    currencies = header[1:]
    rows: list[ExchangeRate] = []
    for number, row in enumerate(reader, start=2):
        if not row or not row[0].strip():
            continue
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            try:
                from datetime import datetime

                day = datetime.strptime(row[0].strip(), "%d %B %Y").date()
            except ValueError:
                raise InvalidRequest(f"line {number}: {row[0]!r} is not a date") from None
        for code, value in zip(currencies, row[1:], strict=False):
            code, value = code.strip().upper(), value.strip()
            if not code or value in {"", "N/A"}:
                continue
            if len(code) != 3 or not code.isalpha():
                raise InvalidRequest(f"{code!r} is not a currency code")
            try:
                per_eur = Decimal(value)
            except InvalidOperation:
                raise InvalidRequest(
                    f"line {number}: {code} rate {value!r} is not a number"
                ) from None
            if per_eur <= 0:
                raise InvalidRequest(f"line {number}: {code} rate must be positive")
            rows.append(ExchangeRate(currency=code, day=day, per_eur=per_eur, source=source))
    ExchangeRate.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["currency", "day"],
        update_fields=["per_eur", "source"],
    )
    return len(rows)
