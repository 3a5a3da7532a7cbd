"""Amounts, dates and match confidence as people read them.

Money and dates are formatted in one place, the kernel (``billingdesk.core.money``: Babel, the
agent's locale); these names stay for the panel's callers.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from billingdesk.core.money import day_format, moment_format, money_format

__all__ = ["confidence_band", "day", "moment", "money_display"]


def money_display(amount: int | None, currency: str, *, locale: str | None = None) -> str:
    """``amount`` minor units of ``currency`` formatted for ``locale`` (default: the active
    language). '' for a missing amount."""
    return money_format(amount, currency, locale=locale)


def confidence_band(confidence: int) -> str:
    """A CSS class for how sure a match is: sure, likely or weak."""
    if confidence >= 90:
        return "sure"
    if confidence >= 60:
        return "likely"
    return "weak"


def day(value: datetime | None, tz: tzinfo | None = None) -> str:
    """The day of ``value`` in ``tz`` (default: the current time zone), as the active language
    writes it ('' for none)."""
    return day_format(value, tz)


def moment(value: datetime | None, tz: tzinfo | None = None) -> str:
    """The day and time of ``value``, as the active language writes it ('' for none)."""
    return moment_format(value, tz)
