"""Template filters and tags of the console and panel: money, dates, match confidence, and
the person's sections (rendered in Python, see ``panel.render``). Money, dates and URLs are
the kernel's filters (``core/templatetags``), re-exported for templates that load this."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from billingdesk.core.templatetags import billingdesk as core_filters
from billingdesk.panel import formatting
from billingdesk.panel.render import sections_html
from billingdesk.panel.selectors import PanelData

register = template.Library()
register.filter("money", core_filters.money)
register.filter("day", core_filters.day)
register.filter("moment", core_filters.moment)
register.filter("safe_url", core_filters.safe_url)


@register.filter
def confidence_band(confidence: int) -> str:
    """A CSS class for how sure a match is: sure, likely or weak."""
    return formatting.confidence_band(confidence)


@register.simple_tag
def panel_sections(data: PanelData, compact: bool = False, back: str = "") -> SafeString:
    """``{% panel_sections data compact=True back=back %}``: the person's sections."""
    return sections_html(data, compact=bool(compact), back=back or "")
