"""Subscriptions: MRR and ARR per currency, what moved in a period, active subscriptions by
plan, upcoming renewals and why subscriptions were cancelled.

MRR of a subscription is its price for one billing period (amount x quantity, less a
recurring discount: a percentage, or an amount off each invoice) over the months that period
lasts (a year: 12; a week: 12/52; a day: 12/365; times ``interval_count``). Subscriptions in
a trial (status trialing, or a trial end still ahead) count for nothing; active and past-due
ones count. Sums stay exact (fractions) and are rounded half up once per currency.

New MRR is the MRR of subscriptions that started in the period, churned MRR that of those
that ended in it, both at their current price. Expansion and contraction come from the price
history the mirror's writes keep (``reports.prices``): a subscription counted at the start
and still running at the end whose monthly price at the end differs from the one at the
start moved by the difference (up: expansion; down: contraction).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.billing.models import Discount, Subscription
from billingdesk.gateways.interface import SubscriptionStatus
from billingdesk.reports.models import SubscriptionPrice
from billingdesk.reports.rollups import day_start

COUNTED = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
MONTHS = {
    "day": Fraction(12, 365),
    "week": Fraction(12, 52),
    "month": Fraction(1),
    "year": Fraction(12),
}


def round_minor(value: Fraction) -> int:
    """Half up (away from zero for positives), as money is rounded everywhere else."""
    return int((value * 2 + 1) // 2) if value >= 0 else -int((-value * 2 + 1) // 2)


def period_months(interval: str, count: int) -> Fraction:
    return MONTHS.get(interval, Fraction(1)) * max(count, 1)


@dataclass(frozen=True)
class Off:
    """A recurring discount: basis points off, or an amount off each invoice."""

    percent_bp: int | None
    amount: int | None
    currency: str


def monthly(
    *, amount: int, quantity: int, interval: str, interval_count: int, off: Off | None = None
) -> Fraction:
    price = Fraction(amount * quantity)
    if off is not None:
        if off.percent_bp:
            price = price * (10000 - min(off.percent_bp, 10000)) / 10000
        elif off.amount:
            price = max(price - off.amount, Fraction(0))
    return price / period_months(interval, interval_count)


def _discounts(at: datetime) -> tuple[dict[tuple[Any, str], Off], dict[tuple[Any, str], Off]]:
    """Recurring discounts in force at ``at``: by (account, subscription id) and by
    (account, customer id) for customer-wide ones."""
    live = (
        Discount.objects.filter(deleted=False, coupon__isnull=False)
        .filter(Q(start__isnull=True) | Q(start__lte=at))
        .filter(Q(end__isnull=True) | Q(end__gt=at))
        .exclude(coupon__duration="once")
        .values_list(
            "account_id",
            "subscription_ref",
            "customer_ref",
            "coupon__percent_off_bp",
            "coupon__amount_off",
            "coupon__currency",
        )
    )
    by_sub: dict[tuple[Any, str], Off] = {}
    by_customer: dict[tuple[Any, str], Off] = {}
    for account, sub, customer, bp, amount, currency in live:
        off = Off(bp, amount, (currency or "").upper())
        if sub:
            by_sub[(account, sub)] = off
        elif customer:
            by_customer[(account, customer)] = off
    return by_sub, by_customer


def counted(at: datetime) -> QuerySet[Subscription]:
    """Subscriptions that count for MRR at ``at`` (now: their current state)."""
    return (
        Subscription.objects.filter(deleted=False, status__in=COUNTED)
        .exclude(trial_end__gt=at)
        .exclude(currency="")
    )


@dataclass
class PlanLine:
    plan: str
    currency: str
    subscriptions: int = 0
    mrr_exact: Fraction = Fraction(0)

    @property
    def mrr(self) -> int:
        return round_minor(self.mrr_exact)


@dataclass
class MrrReport:
    at: datetime
    mrr: dict[str, int]  # per currency
    plans: list[PlanLine]
    trialing: dict[str, int]  # subscriptions in trial per currency (not in MRR)

    @property
    def arr(self) -> dict[str, int]:
        return {currency: amount * 12 for currency, amount in self.mrr.items()}


def mrr_report(*, at: datetime | None = None) -> MrrReport:
    """MRR per currency and per plan. Undiscounted subscriptions are summed by the database
    per (plan, currency, interval); the few under a discount are priced one by one."""
    at = at or timezone.now()
    by_sub, by_customer = _discounts(at)
    discounted = Q()
    for account, ref in by_sub:
        discounted |= Q(account_id=account, gateway_id=ref)
    for account, ref in by_customer:
        discounted |= Q(account_id=account, customer_ref=ref)
    qs = counted(at)
    plain = qs.exclude(discounted) if (by_sub or by_customer) else qs
    lines: dict[tuple[str, str], PlanLine] = {}

    def line(plan: str, currency: str) -> PlanLine:
        return lines.setdefault((plan, currency), PlanLine(plan, currency))

    grouped = (
        plain.values("plan", "currency", "interval", "interval_count")
        .annotate(price=Sum(F("amount") * F("quantity")), n=Count("id"))
        .order_by()
    )
    for g in grouped:
        target = line(g["plan"], g["currency"])
        target.subscriptions += g["n"]
        target.mrr_exact += Fraction(g["price"] or 0) / period_months(
            g["interval"], g["interval_count"]
        )
    if by_sub or by_customer:
        for sub in qs.filter(discounted).only(
            "account_id",
            "gateway_id",
            "customer_ref",
            "plan",
            "currency",
            "amount",
            "quantity",
            "interval",
            "interval_count",
        ):
            off = by_sub.get((sub.account_id, sub.gateway_id)) or by_customer.get(
                (sub.account_id, sub.customer_ref)
            )
            if off is not None and off.amount and off.currency != sub.currency:
                off = None  # an amount off in another currency does not apply
            target = line(sub.plan, sub.currency)
            target.subscriptions += 1
            target.mrr_exact += monthly(
                amount=sub.amount,
                quantity=sub.quantity,
                interval=sub.interval,
                interval_count=sub.interval_count,
                off=off,
            )
    exact: dict[str, Fraction] = defaultdict(Fraction)
    for pl in lines.values():
        exact[pl.currency] += pl.mrr_exact
    trialing = dict(
        Subscription.objects.filter(deleted=False)
        .filter(Q(status=SubscriptionStatus.TRIALING) | Q(status__in=COUNTED, trial_end__gt=at))
        .values_list("currency")
        .annotate(n=Count("id"))
        .order_by()
    )
    return MrrReport(
        at=at,
        mrr={c: round_minor(v) for c, v in sorted(exact.items())},
        plans=sorted(lines.values(), key=lambda pl: (pl.currency, -pl.mrr_exact, pl.plan)),
        trialing=trialing,
    )


@dataclass
class Movement:
    currency: str
    new_mrr: int = 0
    new_count: int = 0
    churned_mrr: int = 0
    churned_count: int = 0
    start_mrr: int = 0
    start_count: int = 0
    expansion_mrr: int = 0
    expansion_count: int = 0
    contraction_mrr: int = 0  # positive: how much MRR was lost to lower prices
    contraction_count: int = 0

    @property
    def logo_churn(self) -> Fraction | None:
        return Fraction(self.churned_count, self.start_count) if self.start_count else None

    @property
    def revenue_churn(self) -> Fraction | None:
        return Fraction(self.churned_mrr, self.start_mrr) if self.start_mrr else None


@dataclass
class Cancellation:
    source: str  # "agent" or "customer"
    reason: str
    count: int = 0


@dataclass
class MovementReport:
    start: date
    end: date
    movements: list[Movement]
    cancellations: list[Cancellation] = field(default_factory=list)


def _price(sub: Subscription) -> Fraction:
    return monthly(
        amount=sub.amount,
        quantity=sub.quantity,
        interval=sub.interval,
        interval_count=sub.interval_count,
    )


def _ended_at(sub: Subscription) -> datetime | None:
    return sub.ended_at or (sub.canceled_at if sub.status == SubscriptionStatus.CANCELED else None)


def movement_report(*, start: date, end: date) -> MovementReport:
    """New and churned MRR, logo and revenue churn, and the cancellations' reasons, over the
    local days ``start``..``end``. A subscription started when its trial ended (or when it
    was created, without a trial); it ended at ``ended_at`` (or when it was cancelled)."""
    begin, finish = day_start(start), day_start(end + timedelta(days=1))
    fields = (
        "account_id",
        "gateway_id",
        "status",
        "currency",
        "amount",
        "quantity",
        "interval",
        "interval_count",
        "gateway_created_at",
        "trial_end",
        "ended_at",
        "canceled_at",
        "raw",
    )
    touched = (
        Subscription.objects.filter(deleted=False)
        .exclude(currency="")
        .exclude(status__in=(SubscriptionStatus.INCOMPLETE, SubscriptionStatus.INCOMPLETE_EXPIRED))
        .filter(gateway_created_at__lt=finish)
        .exclude(ended_at__lt=begin)
        .exclude(ended_at__isnull=True, status=SubscriptionStatus.CANCELED, canceled_at__lt=begin)
        .only(*fields)
    )
    moves: dict[str, Movement] = {}
    exact: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    churned: list[Subscription] = []
    changes = _price_changes(begin, finish)
    for sub in touched.iterator(chunk_size=2000):
        started = max(filter(None, (sub.gateway_created_at, sub.trial_end)))
        ended = _ended_at(sub)
        move = moves.setdefault(sub.currency, Movement(sub.currency))
        price = _price(sub)
        if started < begin and (ended is None or ended >= begin):
            move.start_count += 1
            exact[(sub.currency, "start")] += price
        if begin <= started < finish and (ended is None or ended >= started):
            move.new_count += 1
            exact[(sub.currency, "new")] += price
        if ended is not None and begin <= ended < finish and started <= ended:
            move.churned_count += 1
            exact[(sub.currency, "churned")] += price
            churned.append(sub)
        elif started < begin and (sub.account_id, sub.gateway_id) in changes:
            before, after = changes[(sub.account_id, sub.gateway_id)]
            if before is not None and after != before:
                kind = "expansion" if after > before else "contraction"
                exact[(sub.currency, kind)] += abs(after - before)
                if kind == "expansion":
                    move.expansion_count += 1
                else:
                    move.contraction_count += 1
    for move in moves.values():
        move.expansion_mrr = round_minor(exact[(move.currency, "expansion")])
        move.contraction_mrr = round_minor(exact[(move.currency, "contraction")])
        move.start_mrr = round_minor(exact[(move.currency, "start")])
        move.new_mrr = round_minor(exact[(move.currency, "new")])
        move.churned_mrr = round_minor(exact[(move.currency, "churned")])
    return MovementReport(start, end, [moves[c] for c in sorted(moves)], _cancellations(churned))


def _price_changes(
    begin: datetime, finish: datetime
) -> dict[tuple[Any, str], tuple[Fraction | None, Fraction]]:
    """For each subscription whose price history has a row in [begin, finish): its monthly
    price just before ``begin`` (None when first seen in the period) and at ``finish``."""
    keys = set(
        SubscriptionPrice.objects.filter(at__gte=begin, at__lt=finish)
        .values_list("account_id", "subscription_ref")
        .distinct()
    )
    if not keys:
        return {}
    by_account: dict[Any, list[str]] = defaultdict(list)
    for account, ref in keys:
        by_account[account].append(ref)
    wanted = Q()
    for account, refs in by_account.items():
        wanted |= Q(account_id=account, subscription_ref__in=refs)
    rows = (
        SubscriptionPrice.objects.filter(wanted, at__lt=finish)
        .order_by("account_id", "subscription_ref", "at", "pk")
        .values_list("account_id", "subscription_ref", "at", "mrr_num", "mrr_den")
    )
    out: dict[tuple[Any, str], tuple[Fraction | None, Fraction]] = {}
    for account, ref, at, num, den in rows.iterator(chunk_size=2000):
        price = Fraction(num, den)
        before = out[(account, ref)][0] if (account, ref) in out else None
        out[(account, ref)] = (price if at < begin else before, price)
    return out


def _cancellations(churned: list[Subscription]) -> list[Cancellation]:
    """Who ended each subscription: an agent's cancel action (its reason code) or the
    customer / the gateway (the reason the gateway recorded, e.g. Stripe's
    ``cancellation_details.reason``)."""
    by_agent: dict[tuple[Any, str], str] = {}
    refs = {sub.gateway_id for sub in churned}
    for account, target, reason in ActionRequest.objects.filter(
        kind=ActionKind.CANCEL_SUBSCRIPTION,
        status=ActionRequest.Status.SUCCEEDED,
        target_id__in=refs,
    ).values_list("account_id", "target_id", "reason_code"):
        by_agent[(account, target)] = reason or ""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for sub in churned:
        key = (sub.account_id, sub.gateway_id)
        if key in by_agent:
            counts[("agent", by_agent[key])] += 1
        else:
            details = sub.raw.get("cancellation_details") if isinstance(sub.raw, dict) else None
            given = details.get("reason") if isinstance(details, dict) else None
            counts[("customer", str(given or ""))] += 1
    return [Cancellation(s, r, n) for (s, r), n in sorted(counts.items())]


def upcoming_renewals(*, days: int = 30, limit: int = 200) -> list[Subscription]:
    now = timezone.now()
    return list(
        counted(now)
        .filter(
            cancel_at_period_end=False,
            current_period_end__gte=now,
            current_period_end__lt=now + timedelta(days=days),
        )
        .select_related("customer", "account")
        .order_by("current_period_end", "id")[:limit]
    )
