"""What agents did: refunds by agent, reason and outcome (with the approvals asked, granted
and denied), and the audit trail with its filters and the chain's last verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum

from billingdesk.actions.models import ActionKind, ActionRequest, AuditCheck, AuditEntry
from billingdesk.reports.rollups import day_start

PAGE_SIZE = 100


@dataclass
class AgentRefunds:
    agent: str
    currency: str
    reason: str
    requested: int = 0
    succeeded: int = 0
    amount: int = 0  # succeeded, minor units of ``currency``
    approval_asked: int = 0
    approved: int = 0
    denied: int = 0


def _agent_name(first: str, last: str, username: str) -> str:
    full = f"{first} {last}".strip()
    return f"{full} ({username})" if full else username


def refunds_by_agent(*, start: date, end: date) -> list[AgentRefunds]:
    """Refund requests made in the period, per requesting agent, currency and reason code.
    A request needed approval when someone else decided it (approved or denied)."""
    qs = ActionRequest.objects.filter(
        kind=ActionKind.REFUND,
        created_at__gte=day_start(start),
        created_at__lt=day_start(end + timedelta(days=1)),
    )
    done, denied = ActionRequest.Status.SUCCEEDED, ActionRequest.Status.DENIED
    decided = Q(approved_by__isnull=False)
    grouped = (
        qs.values(
            "requested_by__username",
            "requested_by__first_name",
            "requested_by__last_name",
            "currency",
            "reason_code",
        )
        .annotate(
            requested=Count("id"),
            succeeded=Count("id", filter=Q(status=done)),
            amount=Sum("amount", filter=Q(status=done)),
            approval_asked=Count(
                "id",
                filter=decided | Q(status__in=(ActionRequest.Status.PENDING_APPROVAL, denied)),
            ),
            approved=Count("id", filter=decided & ~Q(status=denied)),
            denied=Count("id", filter=Q(status=denied)),
        )
        .order_by("requested_by__username", "currency", "reason_code")
    )
    return [
        AgentRefunds(
            agent=_agent_name(
                g["requested_by__first_name"],
                g["requested_by__last_name"],
                g["requested_by__username"],
            ),
            currency=g["currency"],
            reason=g["reason_code"],
            requested=g["requested"],
            succeeded=g["succeeded"],
            amount=g["amount"] or 0,
            approval_asked=g["approval_asked"],
            approved=g["approved"],
            denied=g["denied"],
        )
        for g in grouped
    ]


def audit_entries(
    *,
    start: date,
    end: date,
    actor: str = "",
    action: str = "",
    result: str = "",
    target: str = "",
    person: int | None = None,
    account: Any = None,
) -> QuerySet[AuditEntry]:
    """The audit entries of the period matching every filter given, newest first."""
    qs = AuditEntry.objects.filter(
        at__gte=day_start(start), at__lt=day_start(end + timedelta(days=1))
    )
    if actor:
        qs = qs.filter(actor_name__icontains=actor)
    if action:
        qs = qs.filter(action=action)
    if result:
        qs = qs.filter(result=result)
    if target:
        qs = qs.filter(target_id=target)
    if person is not None:
        qs = qs.filter(person_id=person)
    if account is not None:
        qs = qs.filter(account=account)
    return qs.order_by("-seq")


def audit_page(qs: QuerySet[AuditEntry], number: int) -> Page[AuditEntry]:
    return Paginator(qs, PAGE_SIZE).get_page(number)


def audit_last_check() -> AuditCheck | None:
    return AuditCheck.objects.order_by("-at", "-pk").first()
