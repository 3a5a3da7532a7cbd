"""Keep the revenue rollup in step with the mirror: in the mirror's upsert transaction, the
days a write of charges, refunds or disputes touched are recomputed (``reports.rollups``),
and the subscriptions written get a price-history row when their price changed
(``reports.prices``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billingdesk.billing.models import Charge, Dispute, Refund
from billingdesk.billing.signals import mirror_changed
from billingdesk.gateways.interface import ObjectKind
from billingdesk.reports.prices import prices_record
from billingdesk.reports.rollups import days_touched, revenue_days_refresh

_MODELS: dict[str, type[Charge | Refund | Dispute]] = {
    ObjectKind.CHARGE: Charge,
    ObjectKind.REFUND: Refund,
    ObjectKind.DISPUTE: Dispute,
}


@receiver(mirror_changed, dispatch_uid="reports.on_mirror_changed")
def on_mirror_changed(
    sender: Any, *, account: Any, kind: ObjectKind, created: list[int], updated: list[int], **_: Any
) -> None:
    model = _MODELS.get(kind)
    ids = [*created, *updated]
    if kind == ObjectKind.SUBSCRIPTION and ids:
        prices_record(account_id=account.pk, ids=ids)
        return
    if model is None or not ids:
        return
    days = days_touched(model=model, ids=ids)
    if days:
        revenue_days_refresh(account_id=account.pk, days=days)
