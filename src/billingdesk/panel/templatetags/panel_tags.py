"""Template filters and tags of the console and panel: money, dates, match confidence, and
the person's sections (rendered in Python, see ``panel.render``)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from billingdesk.panel import formatting
from billingdesk.panel.render import sections_html
from billingdesk.panel.selectors import PanelData

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """``{{ charge.amount|money:charge.currency }}`` → ``€19.00`` in the active language."""
    return formatting.money_display(amount, currency)


@register.filter
def confidence_band(confidence: int) -> str:
    """A CSS class for how sure a match is: sure, likely or weak."""
    return formatting.confidence_band(confidence)


@register.filter
def day(value: datetime | None) -> str:
    """``12 Mar 2026`` in the current time zone ('' for none)."""
    return formatting.day(value)


@register.simple_tag
def panel_sections(data: PanelData, compact: bool = False, back: str = "") -> SafeString:
    """``{% panel_sections data compact=True back=back %}``: the person's sections."""
    return sections_html(data, compact=bool(compact), back=back or "")
