"""Keep the revenue rollup in step with the mirror: in the mirror's upsert transaction, the
days a write of charges, refunds or disputes touched are recomputed (``reports.rollups``),
and the subscriptions written get a price-history row when their price changed
(``reports.prices``). Each issued document is added to the tax rollup in the transaction
that issues it (``reports.taxdays``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from billingdesk.billing.models import Charge, Dispute, Refund
from billingdesk.billing.signals import mirror_changed
from billingdesk.documents.models import Document
from billingdesk.gateways.interface import ObjectKind
from billingdesk.reports.prices import prices_record
from billingdesk.reports.rollups import days_touched, revenue_days_refresh
from billingdesk.reports.taxdays import tax_days_add

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


@receiver(post_save, sender=Document, dispatch_uid="reports.on_document_issued")
def on_document_issued(sender: Any, *, instance: Document, created: bool, **_: Any) -> None:
    """An issued document is added to the tax rollup once, when it is created (it can never
    change afterwards)."""
    if created:
        tax_days_add(instance)
