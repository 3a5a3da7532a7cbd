"""Template filters of the console and panel: money and match confidence."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from billingdesk.panel.formatting import money_display

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """``{{ charge.amount|money:charge.currency }}`` → ``€19.00`` in the active language."""
    return money_display(amount, currency)


@register.filter
def confidence_band(confidence: int) -> str:
    """A CSS class for how sure a match is: sure, likely or weak."""
    if confidence >= 90:
        return "sure"
    if confidence >= 60:
        return "likely"
    return "weak"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter
def day(value: datetime | None) -> str:
    """``12 Mar 2026`` in the current time zone ('' for none): what ``|date:"j M Y"`` shows,
    at a fraction of its cost (a panel formats a hundred dates)."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}"
