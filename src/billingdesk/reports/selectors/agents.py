"""What agents did: refunds by agent, reason and outcome (with the approvals asked, granted
and denied), every action per agent, disputes and the dispute rate per gateway account, and
the audit trail with its filters and the chain's last verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum

from billingdesk.actions.models import ActionKind, ActionRequest, AuditCheck, AuditEntry
from billingdesk.billing.models import Dispute
from billingdesk.gateways.interface import DisputeStatus
from billingdesk.gateways.models import GatewayAccount
from billingdesk.reports.models import RevenueDay
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


@dataclass
class AgentActions:
    agent: str
    kind: str
    requested: int = 0
    succeeded: int = 0
    failed: int = 0
    denied: int = 0
    waiting: int = 0  # for approval, or still running / unknown


def actions_by_agent(*, start: date, end: date) -> list[AgentActions]:
    """Every kind of action requested in the period, per requesting agent, by outcome."""
    status = ActionRequest.Status
    grouped = (
        ActionRequest.objects.filter(
            created_at__gte=day_start(start), created_at__lt=day_start(end + timedelta(days=1))
        )
        .values(
            "requested_by__username",
            "requested_by__first_name",
            "requested_by__last_name",
            "kind",
        )
        .annotate(
            requested=Count("id"),
            succeeded=Count("id", filter=Q(status=status.SUCCEEDED)),
            failed=Count("id", filter=Q(status=status.FAILED)),
            denied=Count("id", filter=Q(status=status.DENIED)),
        )
        .order_by("requested_by__username", "kind")
    )
    rows = []
    for g in grouped:
        row = AgentActions(
            agent=_agent_name(
                g["requested_by__first_name"],
                g["requested_by__last_name"],
                g["requested_by__username"],
            ),
            kind=g["kind"],
            requested=g["requested"],
            succeeded=g["succeeded"],
            failed=g["failed"],
            denied=g["denied"],
        )
        row.waiting = row.requested - row.succeeded - row.failed - row.denied
        rows.append(row)
    return rows


@dataclass
class RefundReason:
    currency: str
    reason: str
    count: int
    amount: int


def refunds_by_reason(rows: list[AgentRefunds]) -> list[RefundReason]:
    """The done refunds of ``refunds_by_agent`` per currency and reason, largest first."""
    totals: dict[tuple[str, str], RefundReason] = {}
    for r in rows:
        if not r.succeeded:
            continue
        key = (r.currency, r.reason)
        total = totals.setdefault(key, RefundReason(r.currency, r.reason, 0, 0))
        total.count += r.succeeded
        total.amount += r.amount
    return sorted(totals.values(), key=lambda t: (t.currency, -t.amount, t.reason))


@dataclass
class AccountDisputes:
    account_id: Any
    account: str
    currency: str
    charges: int = 0  # paid charges of the period (the rollup's count)
    opened: int = 0  # disputes opened in the period
    amount: int = 0
    won: int = 0
    lost: int = 0

    @property
    def rate(self) -> Fraction | None:
        """Disputes opened per paid charge of the same period (None with no charge)."""
        return Fraction(self.opened, self.charges) if self.charges else None


def disputes_by_account(*, start: date, end: date) -> list[AccountDisputes]:
    """Disputes opened in the period per gateway account and currency, with the dispute rate
    over the period's paid charges (from the revenue rollup: no scan of the charges)."""
    window = {
        "gateway_created_at__gte": day_start(start),
        "gateway_created_at__lt": day_start(end + timedelta(days=1)),
    }
    rows: dict[tuple[Any, str], AccountDisputes] = {}
    names = dict(GatewayAccount.objects.values_list("pk", "name"))

    def row(account_id: Any, currency: str) -> AccountDisputes:
        key = (account_id, currency)
        if key not in rows:
            rows[key] = AccountDisputes(account_id, names.get(account_id, ""), currency)
        return rows[key]

    disputes = (
        Dispute.objects.filter(deleted=False, **window)
        .values("account_id", "currency")
        .annotate(
            opened=Count("id"),
            amount=Sum("amount"),
            won=Count("id", filter=Q(status=DisputeStatus.WON)),
            lost=Count("id", filter=Q(status=DisputeStatus.LOST)),
        )
        .order_by()
    )
    for d in disputes:
        r = row(d["account_id"], d["currency"])
        r.opened, r.amount, r.won, r.lost = d["opened"], d["amount"] or 0, d["won"], d["lost"]
    charges = (
        RevenueDay.objects.filter(day__gte=start, day__lte=end)
        .values("account_id", "currency")
        .annotate(n=Sum("charges"))
        .order_by()
    )
    for c in charges:
        if c["n"]:
            row(c["account_id"], c["currency"]).charges = c["n"]
    return sorted(rows.values(), key=lambda r: (r.account, r.account_id, r.currency))
