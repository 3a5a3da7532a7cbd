"""Revenue: gross, refunds, disputes lost and net per day, week or month, per currency (and
per gateway account or product), read from the daily rollup (``reports.rollups``) so that a
year is a few hundred rows however many charges it holds. Amounts of different currencies
are never added; the optional conversion is a separate, labelled set of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import DateField, QuerySet, Sum
from django.db.models.functions import Trunc

from billingdesk.gateways.models import GatewayAccount
from billingdesk.reports.fx import RateTable
from billingdesk.reports.models import RevenueDay

SUMS = ("gross", "refunds", "disputes_lost", "charges", "refund_count", "dispute_lost_count")


@dataclass
class RevenueRow:
    bucket: date | None  # None on a totals row
    key: str  # the account's name or the product ('' when not split)
    currency: str
    gross: int = 0
    refunds: int = 0
    disputes_lost: int = 0
    charges: int = 0
    refund_count: int = 0
    dispute_lost_count: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.disputes_lost

    def add(self, other: RevenueRow) -> None:
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RevenueReport:
    start: date
    end: date
    group: str
    by: str
    rows: list[RevenueRow]
    totals: list[RevenueRow]  # per key and currency over the whole period
    convert_to: str = ""
    converted: list[RevenueRow] = field(default_factory=list)
    converted_totals: list[RevenueRow] = field(default_factory=list)

    @property
    def currencies(self) -> list[str]:
        return sorted({row.currency for row in self.totals})


def bucket_of(day: date, group: str) -> date:
    if group == "month":
        return day.replace(day=1)
    if group == "week":
        return day - timedelta(days=day.weekday())
    return day


def _filtered(
    *, start: date, end: date, account: GatewayAccount | None, currency: str, product: str
) -> QuerySet[RevenueDay]:
    qs = RevenueDay.objects.filter(day__gte=start, day__lte=end)
    if account is not None:
        qs = qs.filter(account=account)
    if currency:
        qs = qs.filter(currency=currency)
    if product:
        qs = qs.filter(product=product)
    return qs


def _dimension(by: str) -> list[str]:
    return {"account": ["account_id"], "product": ["product"]}.get(by, [])


def _key(group: dict[str, Any], by: str, names: dict[Any, str]) -> str:
    if by == "account":
        return names.get(group["account_id"], str(group["account_id"]))
    if by == "product":
        return str(group["product"])
    return ""


def revenue_report(
    *,
    start: date,
    end: date,
    group: str = "month",
    by: str = "",
    account: GatewayAccount | None = None,
    currency: str = "",
    product: str = "",
    convert_to: str = "",
) -> RevenueReport:
    """The revenue of the local days ``start``..``end`` (both included). Raises
    ``InvalidRequest`` when ``convert_to`` is asked and a rate is missing."""
    qs = _filtered(start=start, end=end, account=account, currency=currency, product=product)
    names = dict(GatewayAccount.objects.values_list("pk", "name")) if by == "account" else {}
    dims = _dimension(by)
    sums = {name: Sum(name) for name in SUMS}
    grouped = (
        qs.annotate(bucket=Trunc("day", group, output_field=DateField()))
        .values("bucket", *dims, "currency")
        .annotate(**sums)
        .order_by("bucket", *dims, "currency")
    )
    rows: list[RevenueRow] = []
    totals: dict[tuple[str, str], RevenueRow] = {}
    for g in grouped:
        key = _key(g, by, names)
        row = RevenueRow(g["bucket"], key, g["currency"], **{n: g[n] or 0 for n in SUMS})
        rows.append(row)
        totals.setdefault((key, row.currency), RevenueRow(None, key, row.currency)).add(row)
    rows.sort(key=lambda r: (r.bucket or start, r.key, r.currency))
    report = RevenueReport(
        start, end, group, by, rows, [totals[k] for k in sorted(totals)], convert_to
    )
    if convert_to:
        _convert(report, qs, dims, names)
    return report


def _convert(
    report: RevenueReport, qs: QuerySet[RevenueDay], dims: list[str], names: dict[Any, str]
) -> None:
    """Each day's amounts at that day's rate, summed per bucket (not a bucket's sum at one
    rate: a month's revenue is converted the way its days were earned)."""
    to = report.convert_to
    table = RateTable.load({*report.currencies, to}, report.start, report.end)
    per_day = (
        qs.values("day", *dims, "currency")
        .annotate(**{name: Sum(name) for name in SUMS})
        .order_by()
    )
    buckets: dict[tuple[date, str], RevenueRow] = defaultdict(lambda: RevenueRow(None, "", to))
    totals: dict[str, RevenueRow] = {}
    for g in per_day:
        key = _key(g, report.by, names)
        bucket = bucket_of(g["day"], report.group)
        row = buckets[(bucket, key)]
        row.bucket, row.key = bucket, key
        one = RevenueRow(bucket, key, to, **{n: g[n] or 0 for n in SUMS})
        for name in ("gross", "refunds", "disputes_lost"):
            setattr(one, name, table.convert(getattr(one, name), g["currency"], to, g["day"]))
        row.add(one)
    report.converted = [buckets[k] for k in sorted(buckets)]
    for row in report.converted:
        totals.setdefault(row.key, RevenueRow(None, row.key, to)).add(row)
    report.converted_totals = [totals[k] for k in sorted(totals)]
