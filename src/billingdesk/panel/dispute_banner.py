"""The open-dispute banner at the top of a person's sections (compact panel and console
person page): amount, reason in words, the deadline as "answer within N days", status, and a
link to the evidence review (``billingdesk.disputes``, reached by URL name only: the panel
sits below that app). Also the deadline wording the disputes app reuses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billingdesk.billing.models import Dispute
from billingdesk.core.html import SafeString, html, join, url_attr
from billingdesk.core.labels import label
from billingdesk.core.money import money_format
from billingdesk.gateways.interface import DisputeStatus

# Waiting for the merchant's answer; and still open (answered, the bank deciding).
ANSWERABLE = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING)
OPEN = (*ANSWERABLE, DisputeStatus.UNDER_REVIEW)
URGENT_DAYS = 3


def days_left(due: datetime | None, now: datetime | None = None) -> int | None:
    """Whole days until ``due`` (0 on the day itself, negative once past), None if unknown."""
    if due is None:
        return None
    return (timezone.localdate(due) - timezone.localdate(now or timezone.now())).days


def deadline_text(dispute: Dispute) -> str:
    """ "Answer within 5 days", "Answer today", "The deadline passed 2 days ago" ('' once
    answered or closed)."""
    if dispute.status not in ANSWERABLE:
        return ""
    left = days_left(dispute.evidence_due_by)
    if left is None:
        return _("No deadline given by the gateway")
    if left > 0:
        return ngettext("Answer within %(n)d day", "Answer within %(n)d days", left) % {"n": left}
    if left == 0:
        return _("Answer today")
    return ngettext(
        "The deadline passed %(n)d day ago", "The deadline passed %(n)d days ago", -left
    ) % {"n": -left}


def _review_url(dispute: Dispute) -> str:
    try:
        return reverse("dispute-review", args=[dispute.pk])
    except NoReverseMatch:  # the disputes app is not installed
        return ""


def dispute_banner_html(disputes: Iterable[Dispute]) -> SafeString:
    """One alert line per open dispute, the nearest deadline first ('' when none is open)."""
    rows = sorted(
        (d for d in disputes if d.status in OPEN and not d.deleted),
        key=lambda d: (d.evidence_due_by is None, d.evidence_due_by or timezone.now()),
    )
    if not rows:
        return SafeString("")
    items = []
    for dispute in rows:
        left = days_left(dispute.evidence_due_by)
        urgent = dispute.status in ANSWERABLE and left is not None and left <= URGENT_DAYS
        url = _review_url(dispute)
        items.append(
            html(
                '<li data-open-dispute="{}"{}><strong>{}</strong> {} · {} · '
                '<span class="badge {}">{}</span>{}{}</li>',
                dispute.gateway_id,
                SafeString(' class="urgent"') if urgent else SafeString(""),
                _("Disputed:"),
                money_format(dispute.amount, dispute.currency),
                label(dispute.reason) or _("no reason given"),
                dispute.status,
                label(dispute.status),
                html(
                    ' · <span class="{}">{}</span>', "bad" if urgent else "", deadline_text(dispute)
                )
                if dispute.status in ANSWERABLE
                else SafeString(""),
                html(' · <a href="{}">{}</a>', url_attr(url), _("Review the evidence"))
                if url
                else SafeString(""),
            )
        )
    return html(
        '<section class="card dispute-banner" role="alert" id="open-disputes"><ul class="rows">'
        "{}</ul></section>\n",
        join(items, "\n"),
    )
