"""Limits on the actions that move money: when an action needs approval, and who may give it.

Limits come from ``accounts.RefundLimit`` (per role, kind of action and currency) and fail
closed (``accounts.selectors.money_limit``). Three bounds apply to an agent acting alone:

- one action may not exceed ``max_amount``;
- nor may the total of such actions on the same record (a charge for refunds and captures, a
  customer for authorisations and payment requests), by anyone, run without approval;
- nor, when ``daily_max`` is set, what this agent moved alone in the last 24 hours.

An approver is bounded by the same limits of their own role: the action's amount, the total on
the record including approved actions, and what they moved or approved in 24 hours.
Requests that are running, done or of unknown outcome count; failed and denied ones do not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import money_limit, role_of
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import User
from billingdesk.core.money import Money

MONEY_KINDS = frozenset(
    {ActionKind.REFUND, ActionKind.CAPTURE, ActionKind.AUTHORIZE, ActionKind.PAYMENT_REQUEST}
)
COUNTED = (
    ActionRequest.Status.RUNNING,
    ActionRequest.Status.SUCCEEDED,
    ActionRequest.Status.UNKNOWN,
)
DAY = timedelta(hours=24)

_WHAT = {
    ActionKind.REFUND: ("refund", "this charge"),
    ActionKind.CAPTURE: ("capture", "this charge"),
    ActionKind.AUTHORIZE: ("authorisation", "this customer"),
    ActionKind.PAYMENT_REQUEST: ("payment request", "this customer"),
}


def _sum(rows: object) -> int:
    total = rows.aggregate(total=Sum("amount"))["total"]  # type: ignore[attr-defined]
    return int(total or 0)


def _on_target(
    *, kind: ActionKind, account_id: Any, target_kind: str, target_id: str, currency: str
) -> object:
    return ActionRequest.objects.filter(
        account_id=account_id,
        target_id=target_id,
        target_kind=target_kind,
        kind=kind,
        currency=currency,
        status__in=COUNTED,
    )


def limit_refusal(
    *,
    user: User,
    kind: ActionKind,
    amount: int | None,
    currency: str,
    account_id: Any,
    target_kind: str,
    target_id: str,
    approving: ActionRequest | None = None,
) -> str:
    """Why this agent may not do (or, with ``approving``, approve) this alone; '' if they may."""
    kind = ActionKind(kind)
    if (
        kind in (ActionKind.DISPUTE_SUBMIT, ActionKind.DISPUTE_ACCEPT)
        and settings.DISPUTE_ANSWER_NEEDS_APPROVAL
        and ROLE_RANK[role_of(user)] < ROLE_RANK[Role.FINANCE]
    ):
        return "Answering a dispute needs finance's approval (a setting of this installation)."
    if kind not in MONEY_KINDS or amount is None:
        return ""
    limit = money_limit(role=role_of(user), kind=kind.value, currency=currency)
    if limit.unlimited:
        return ""
    noun, place = _WHAT[kind]
    if limit.max_amount is not None:
        if amount > limit.max_amount:
            if limit.max_amount == 0:
                return f"No {noun} limit is set for your role in {currency}."
            cap = Money(limit.max_amount, currency)
            return f"{Money(amount, currency)} is above your limit of {cap}."
        done = _on_target(
            kind=kind,
            account_id=account_id,
            target_kind=target_kind,
            target_id=target_id,
            currency=currency,
        )
        if approving is not None:
            done = done.exclude(pk=approving.pk)  # type: ignore[attr-defined]
        else:
            done = done.filter(approved_by__isnull=True)  # type: ignore[attr-defined]
        before = _sum(done)
        if before + amount > limit.max_amount:
            return (
                f"With the {Money(before, currency)} already moved on {place}, "
                f"{Money(before + amount, currency)} in all is above your limit of "
                f"{Money(limit.max_amount, currency)}."
            )
    if limit.daily_max is not None:
        mine = ActionRequest.objects.filter(
            kind=kind,
            currency=currency,
            status__in=COUNTED,
            created_at__gte=timezone.now() - DAY,
        )
        if approving is not None:
            mine = mine.filter(
                Q(requested_by_id=user.pk, approved_by__isnull=True) | Q(approved_by_id=user.pk)
            ).exclude(pk=approving.pk)
        else:
            mine = mine.filter(requested_by_id=user.pk, approved_by__isnull=True)
        today = _sum(mine)
        if today + amount > limit.daily_max:
            return (
                f"With the {Money(today, currency)} of {noun}s in the last 24 hours, this is "
                f"above your daily limit of {Money(limit.daily_max, currency)}."
            )
    return ""


def awaiting_approval(
    *, kind: ActionKind, account_id: Any, target_kind: str, target_id: str
) -> ActionRequest | None:
    """The request of this kind on this record that is waiting for approval, if any."""
    return (
        ActionRequest.objects.filter(
            account_id=account_id,
            target_id=target_id,
            target_kind=target_kind,
            kind=kind,
            status=ActionRequest.Status.PENDING_APPROVAL,
        )
        .order_by("created_at")
        .first()
    )
