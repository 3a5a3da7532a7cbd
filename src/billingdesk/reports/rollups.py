"""The revenue rollup (``RevenueDay``): computed from the mirror, per local day.

Gross is what captured charges took (``amount_captured`` of charges captured, partly or fully
refunded, or disputed), on the day of the charge; refunds are succeeded refunds on the day of
the refund; disputes lost are lost disputes on the day the dispute was opened (the day it was
lost is not kept by every gateway). Refunds and disputes carry their charge's product, looked
up by the charge's gateway id, so they count under the right product even when they arrived
before their charge.

Days are in the reporting time zone, ``settings.TIME_ZONE`` (``BILLINGDESK_TIME_ZONE``): a
charge at 23:30 UTC on 31 January is February revenue in Paris.

Two ways to fill it, which must agree (``tests`` hold them to it): ``revenue_days_refresh``
recomputes the days one mirror write touched, and ``revenue_rollup_rebuild`` recomputes
everything. Both read the mirror through ``_day_totals``; a day is always recomputed whole,
never adjusted by a difference, so a duplicate, stale or out-of-order event cannot drift it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from billingdesk.billing.models import Charge, Dispute, Refund
from billingdesk.gateways.interface import ChargeStatus, DisputeStatus, RefundStatus
from billingdesk.reports.models import RevenueDay

GROSS_STATUSES = (
    ChargeStatus.CAPTURED,
    ChargeStatus.PARTIALLY_REFUNDED,
    ChargeStatus.REFUNDED,
    ChargeStatus.DISPUTED,
)

Key = tuple[date, Any, str, str]  # day, account id, currency, product


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the reporting time zone (aware)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped: [(first, last), ...], so a backfill batch spread over years
    reads a few short windows, not everything between its first and last day."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] <= timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _product_of_charge() -> Coalesce:
    charge = Charge.objects.filter(
        account_id=OuterRef("account_id"), gateway_id=OuterRef("charge_ref")
    )
    return Coalesce(Subquery(charge.values("product")[:1]), Value(""))


def _grouped(qs: QuerySet[Any], amount: str, **extra: Any) -> QuerySet[Any]:
    tz = timezone.get_default_timezone()
    grouped: QuerySet[Any] = (
        qs.annotate(day=TruncDate("gateway_created_at", tzinfo=tz), **extra)
        .values("day", "account_id", "currency", "product")
        .annotate(total=Sum(amount), n=Count("id"))
        .order_by()
    )
    return grouped


def _day_totals(where: Q) -> dict[Key, RevenueDay]:
    """The rollup rows of the mirror rows matching ``where`` (on ``account`` and
    ``gateway_created_at``), keyed by day, account, currency and product."""
    live = Q(deleted=False, gateway_created_at__isnull=False) & where
    rows: dict[Key, RevenueDay] = {}

    def row(group: dict[str, Any]) -> RevenueDay:
        key = (group["day"], group["account_id"], group["currency"], group["product"])
        if key not in rows:
            rows[key] = RevenueDay(day=key[0], account_id=key[1], currency=key[2], product=key[3])
        return rows[key]

    charges = Charge.objects.filter(live, status__in=GROSS_STATUSES)
    for group in _grouped(charges, "amount_captured"):
        target = row(group)
        target.gross, target.charges = group["total"] or 0, group["n"]
    refunds = Refund.objects.filter(live, status=RefundStatus.SUCCEEDED)
    for group in _grouped(refunds, "amount", product=_product_of_charge()):
        target = row(group)
        target.refunds, target.refund_count = group["total"] or 0, group["n"]
    disputes = Dispute.objects.filter(live, status=DisputeStatus.LOST)
    for group in _grouped(disputes, "amount", product=_product_of_charge()):
        target = row(group)
        target.disputes_lost, target.dispute_lost_count = group["total"] or 0, group["n"]
    return rows


def revenue_days_refresh(*, account_id: Any, days: Iterable[date]) -> int:
    """Recompute the rollup of ``days`` (local days) of one account; returns the rows kept."""
    kept = 0
    with transaction.atomic():
        for first, last in _runs(days):
            window = Q(
                account_id=account_id,
                gateway_created_at__gte=day_start(first),
                gateway_created_at__lt=day_start(last + timedelta(days=1)),
            )
            rows = _day_totals(window)
            RevenueDay.objects.filter(account_id=account_id, day__gte=first, day__lte=last).delete()
            RevenueDay.objects.bulk_create(rows.values(), batch_size=500)
            kept += len(rows)
    return kept


def revenue_rollup_rebuild() -> int:
    """Recompute the whole rollup from the mirror; returns the number of rows."""
    with transaction.atomic():
        rows = _day_totals(Q())
        RevenueDay.objects.all().delete()
        RevenueDay.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


def days_touched(*, model: type[Charge | Refund | Dispute], ids: list[int]) -> set[date]:
    """The local days whose rollup the rows ``ids`` of ``model`` count in. For charges, also
    the days of their refunds and disputes, which take the charge's product."""
    found = model.objects.filter(pk__in=ids, gateway_created_at__isnull=False)
    days = {local_day(m) for m in found.values_list("gateway_created_at", flat=True) if m}
    if model is Charge:
        refs = Charge.objects.filter(pk__in=ids).values("account_id", "gateway_id")
        for related in (Refund, Dispute):
            moments = related.objects.filter(
                account_id__in=refs.values("account_id"),
                charge_ref__in=refs.values("gateway_id"),
                gateway_created_at__isnull=False,
            ).values_list("gateway_created_at", flat=True)
            days |= {local_day(moment) for moment in moments if moment}
    return days


__all__ = [
    "GROSS_STATUSES",
    "day_start",
    "days_touched",
    "local_day",
    "revenue_days_refresh",
    "revenue_rollup_rebuild",
]
