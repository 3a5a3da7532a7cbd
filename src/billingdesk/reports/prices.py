"""The subscriptions' price history (``SubscriptionPrice``), kept by the mirror's writes.

``prices_record`` runs in the mirror's upsert transaction for the subscriptions a batch
wrote: each one whose monthly price differs from its last recorded one gets a row at the
gateway's time of the change (its ``gateway_updated_at``; its creation for the first row).
A duplicate or stale event writes nothing (the price is the same, or the mirror did not
apply it). ``prices_seed`` gives every subscription with no history its first row, for a
mirror filled before the reports were installed (``billingdesk reports_rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from django.db.models import Exists, OuterRef

from billingdesk.billing.models import Subscription
from billingdesk.reports.models import SubscriptionPrice

_FIELDS = ("account_id", "gateway_id", "currency", "amount", "quantity", "interval",
           "interval_count", "gateway_created_at", "gateway_updated_at")  # fmt: skip


def price_of(sub: Subscription) -> Fraction:
    from billingdesk.reports.selectors.subscriptions import monthly

    return monthly(
        amount=sub.amount,
        quantity=sub.quantity,
        interval=sub.interval,
        interval_count=sub.interval_count,
    )


def _row(sub: Subscription, *, first: bool) -> SubscriptionPrice:
    price = price_of(sub)
    at = (sub.gateway_created_at or sub.gateway_updated_at) if first else sub.gateway_updated_at
    return SubscriptionPrice(
        account_id=sub.account_id,
        subscription_ref=sub.gateway_id,
        at=at,
        currency=sub.currency,
        mrr_num=price.numerator,
        mrr_den=price.denominator,
    )


def prices_record(*, account_id: Any, ids: Iterable[int]) -> int:
    """Record the subscriptions ``ids`` whose price changed; how many rows were written."""
    subs = list(Subscription.objects.filter(pk__in=list(ids)).exclude(currency="").only(*_FIELDS))
    if not subs:
        return 0
    last: dict[str, tuple[str, Fraction]] = {}
    history = (
        SubscriptionPrice.objects.filter(
            account_id=account_id, subscription_ref__in=[s.gateway_id for s in subs]
        )
        .order_by("subscription_ref", "at", "pk")
        .values_list("subscription_ref", "currency", "mrr_num", "mrr_den")
    )
    for ref, currency, num, den in history:
        last[ref] = (currency, Fraction(num, den))  # the latest wins: ordered by time
    rows = []
    for sub in subs:
        known = last.get(sub.gateway_id)
        if known is None:
            rows.append(_row(sub, first=True))
        elif known != (sub.currency, price_of(sub)):
            rows.append(_row(sub, first=False))
    SubscriptionPrice.objects.bulk_create(rows)
    return len(rows)


def prices_seed(batch: int = 2000) -> int:
    """A first row for every subscription that has none; how many were written."""
    recorded = SubscriptionPrice.objects.filter(
        account_id=OuterRef("account_id"), subscription_ref=OuterRef("gateway_id")
    )
    missing = (
        Subscription.objects.filter(deleted=False)
        .exclude(currency="")
        .exclude(Exists(recorded))
        .only(*_FIELDS)
    )
    written, rows = 0, []
    for sub in missing.iterator(chunk_size=batch):
        rows.append(_row(sub, first=True))
        if len(rows) >= batch:
            written += len(SubscriptionPrice.objects.bulk_create(rows))
            rows = []
    written += len(SubscriptionPrice.objects.bulk_create(rows))
    return written
