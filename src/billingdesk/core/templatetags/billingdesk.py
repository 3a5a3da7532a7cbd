"""Filters every template has (registered as builtins in settings): money and dates the one
way the kernel writes them, and the http(s) allow-list for links built from outside data.

    {{ charge.amount|money:charge.currency }}   €19.00 (the active language)
    {{ charge.created_at|day }}                 Dec 3, 2026
    {{ entry.at|moment }}                       Dec 3, 2026, 9:14 AM
    <a href="{{ invoice.hosted_url|safe_url }}">  '' unless http(s) or a path on this site
    {{ refund.reason|label }}                   Requested by the customer (``core.labels``)
    {{ action.kind|label:"action" }}            the word for that code as an action
"""

from __future__ import annotations

from datetime import date, datetime

from django import template

from billingdesk.core.html import safe_url as _safe_url
from billingdesk.core.labels import label as _label
from billingdesk.core.money import day_format, moment_format, money_format

register = template.Library()


@register.filter
def money(amount: object, currency: object) -> str:
    """Minor units as the active language writes them; '' for a missing or non-integer
    amount (a field the row does not have), so a page never fails on it."""
    return money_format(amount, currency)


@register.filter
def day(value: datetime | date | None) -> str:
    return day_format(value) if isinstance(value, date) else ""


@register.filter
def moment(value: datetime | None) -> str:
    return moment_format(value) if isinstance(value, datetime) else ""


@register.filter
def safe_url(value: object) -> str:
    """The URL if it is http(s) (or a path on this site), else '' (autoescaped as usual)."""
    return _safe_url(value)


@register.filter
def label(code: object, context: str = "") -> str:
    """The plain, translated word for a stored code (``core.labels``), never the code."""
    return _label(code, context)
