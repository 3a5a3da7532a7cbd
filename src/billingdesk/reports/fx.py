"""Converting report amounts to one reporting currency with the stored ECB reference rates
(``billingdesk documents_load_rates FILE``): each day's amount at the rate of that day (or
the last published before it: the ECB publishes none on weekends and TARGET holidays),
rounded half up to the reporting currency's minor unit. Converted figures are always shown
labelled as converted, beside the amounts in their own currencies."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from billingdesk.core.errors import InvalidRequest
from billingdesk.core.money import currency_exponent
from billingdesk.documents.models import ExchangeRate

# How far back a rate may be: past this the table has a hole, not a holiday.
STALE_AFTER = timedelta(days=7)


@dataclass
class RateTable:
    """Rates per EUR for some currencies over a period, loaded once for a report."""

    per_eur: dict[str, tuple[list[date], list[Decimal]]] = field(default_factory=dict)

    @classmethod
    def load(cls, currencies: set[str], start: date, end: date) -> RateTable:
        table = cls()
        wanted = sorted(c for c in currencies if c != "EUR")
        rows = ExchangeRate.objects.filter(
            currency__in=wanted, day__gte=start - STALE_AFTER, day__lte=end
        ).order_by("currency", "day")
        for currency, day, rate in rows.values_list("currency", "day", "per_eur"):
            days, rates = table.per_eur.setdefault(currency, ([], []))
            days.append(day)
            rates.append(rate)
        return table

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of ``currency`` for 1 EUR on ``on``; ``InvalidRequest`` when none is stored."""
        if currency == "EUR":
            return Decimal(1)
        days, rates = self.per_eur.get(currency, ([], []))
        at = bisect_right(days, on) - 1
        if at < 0 or on - days[at] > STALE_AFTER:
            raise InvalidRequest(
                f"no ECB reference rate for {currency} on {on.isoformat()}: load the rates "
                "with `billingdesk documents_load_rates FILE`",
                code="exchange_rate_missing",
            )
        return rates[at]

    def convert(self, amount: int, currency: str, to: str, on: date) -> int:
        if currency == to:
            return amount
        value = Decimal(amount).scaleb(-currency_exponent(currency))
        converted = value * self.rate(to, on) / self.rate(currency, on)
        minor = converted.scaleb(currency_exponent(to))
        return int(minor.quantize(Decimal(1), rounding=ROUND_HALF_UP))
