"""Deadline reminders: an email to the dispute's assigned agent and to finance a few days
before the evidence is due (``DISPUTE_REMINDER_DAYS``, e.g. 5, 2 and 1 days before), each
reminder once. It only tells people; nothing is ever submitted without one of them.

Run daily by ``billingdesk dispute_reminders`` (cron or a timer, see docs/disputes.md).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billingdesk.accounts.models import Role
from billingdesk.billing.models import Dispute
from billingdesk.core.labels import label
from billingdesk.core.money import Money
from billingdesk.disputes.models import DisputeCase
from billingdesk.panel.dispute_banner import ANSWERABLE, days_left

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RemindersRun:
    sent: int
    failed: int


def _finance() -> list[User]:
    return list(
        User.objects.filter(is_active=True, agent_profile__role=Role.FINANCE).exclude(email="")
    )


def _due_threshold(left: int, sent: list[int]) -> int | None:
    """The reminder due now: the smallest configured day count ≥ ``left`` not sent yet."""
    due = sorted(day for day in settings.DISPUTE_REMINDER_DAYS if day >= left and day not in sent)
    return due[0] if due else None


def dispute_reminders_send(*, now: datetime | None = None, base_url: str = "") -> RemindersRun:
    now = now or timezone.now()
    horizon = max(settings.DISPUTE_REMINDER_DAYS, default=0)
    disputes = Dispute.objects.filter(
        status__in=ANSWERABLE, deleted=False, evidence_due_by__gte=now
    ).select_related("account", "case__assigned_to")
    finance = _finance()
    sent = failed = 0
    for dispute in disputes.order_by("evidence_due_by"):
        left = days_left(dispute.evidence_due_by, now)
        if left is None or left > horizon:
            continue
        case, _created = DisputeCase.objects.get_or_create(dispute=dispute)
        threshold = _due_threshold(left, list(case.reminders_sent))
        if threshold is None:
            continue
        people = {u.email: u for u in finance}
        if case.assigned_to is not None and case.assigned_to.email:
            people[case.assigned_to.email] = case.assigned_to
        if not people:
            log.warning("dispute %s is due in %s days and nobody can be reminded", dispute.pk, left)
            continue
        if _send(dispute, left, sorted(people), base_url):
            with transaction.atomic():
                case = DisputeCase.objects.select_for_update().get(pk=case.pk)
                # The earlier reminders this one stands for are not sent late.
                passed = {d for d in settings.DISPUTE_REMINDER_DAYS if d >= threshold}
                case.reminders_sent = sorted({*case.reminders_sent, *passed})
                case.save(update_fields=["reminders_sent"])
            sent += 1
        else:
            failed += 1
    return RemindersRun(sent=sent, failed=failed)


def _send(dispute: Dispute, left: int, to: list[str], base_url: str) -> bool:
    amount = Money(dispute.amount, dispute.currency)
    url = base_url.rstrip("/") + reverse("dispute-review", args=[dispute.pk])
    subject = f"Dispute {dispute.gateway_id}: answer within {left} day(s)"
    body = "\n\n".join(
        [
            f"The dispute {dispute.gateway_id} ({amount}, {label(dispute.reason) or 'no reason'}) "
            f"on {dispute.account.name} must be answered by "
            f"{timezone.localtime(dispute.evidence_due_by):%Y-%m-%d %H:%M}"
            if dispute.evidence_due_by
            else "",
            f"Review the evidence packet and submit it, or accept the dispute: {url}",
            "billingdesk never answers a dispute on its own.",
        ]
    )
    try:
        EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            headers={"Auto-Submitted": "auto-generated"},
        ).send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("dispute %s reminder not sent: %s", dispute.pk, exc)
        return False
    return True
