"""Reads: one dispute as the review page shows it, and the finance list of disputes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billingdesk.billing.models import Dispute
from billingdesk.core.labels import label
from billingdesk.core.money import day_format, money_format
from billingdesk.gateways.interface import DisputeStatus
from billingdesk.panel.dispute_banner import ANSWERABLE, URGENT_DAYS, days_left, deadline_text
from billingdesk.panel.lists import Cell, ListSpec


@dataclass(frozen=True, slots=True)
class DisputeCard:
    dispute: Dispute
    amount: str
    reason: str
    status: str
    deadline: str
    urgent: bool
    answerable: bool


def dispute_card(dispute: Dispute) -> DisputeCard:
    left = days_left(dispute.evidence_due_by)
    answerable = dispute.status in ANSWERABLE
    return DisputeCard(
        dispute=dispute,
        amount=money_format(dispute.amount, dispute.currency),
        reason=label(dispute.reason) or _("No reason given"),
        status=label(dispute.status),
        deadline=deadline_text(dispute),
        urgent=answerable and left is not None and left <= URGENT_DAYS,
        answerable=answerable,
    )


def disputes_queryset() -> QuerySet[Dispute]:
    return (
        Dispute.objects.filter(deleted=False)
        .select_related("account", "charge__customer")
        .defer(
            "raw",
            "charge__raw",
            "charge__customer__raw",
            "account__credentials",
            "account__webhook_secret",
        )
    )


def _row(dispute: Dispute) -> list[Cell]:
    customer = dispute.charge.customer if dispute.charge else None
    person = (
        Cell(
            customer.name or customer.email or f"#{customer.person_id}",
            reverse("console-person", args=[customer.person_id]),
        )
        if customer is not None and customer.person_id
        else Cell("—")
    )
    return [
        Cell(day_format(dispute.gateway_created_at) if dispute.gateway_created_at else "—"),
        person,
        Cell(money_format(dispute.amount, dispute.currency)),
        Cell(label(dispute.status), badge=dispute.status),
        Cell(label(dispute.reason)),
        Cell(
            deadline_text(dispute)
            or (day_format(dispute.evidence_due_by) if dispute.evidence_due_by else "—")
        ),
        Cell(_("Review"), reverse("dispute-review", args=[dispute.pk])),
    ]


# The console Lists' machinery (filters, keyset pages on (date, id)) with a deadline column.
DISPUTES_LIST = ListSpec(
    slug="disputes",
    title=gettext_lazy("Disputes"),
    columns=(
        gettext_lazy("Opened"),
        gettext_lazy("Person"),
        gettext_lazy("Amount"),
        gettext_lazy("Status"),
        gettext_lazy("Reason"),
        gettext_lazy("Deadline"),
        gettext_lazy("Evidence"),
    ),
    queryset=disputes_queryset,
    date_field="listed_at",
    dated_by_expression=True,
    statuses=tuple(DisputeStatus),
    row=_row,
)
