"""The mirror's changes as events: ``<kind>.created`` and ``<kind>.updated``.

Runs inside the upsert transaction: the events commit with the change (stored before they
are sent) and their delivery jobs are enqueued after it. Nothing is read when no endpoint is
active, so a backfill without webhook endpoints costs one query per batch.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billingdesk.api.models import WebhookEndpoint
from billingdesk.api.v1 import schemas
from billingdesk.api.webhooks.services import event_emit
from billingdesk.billing.models import Charge, Dispute, Invoice, Refund, Subscription
from billingdesk.billing.signals import mirror_changed
from billingdesk.gateways.interface import ObjectKind

_RENDER: dict[ObjectKind, tuple[Any, Any]] = {
    ObjectKind.CHARGE: (Charge, schemas.charge_out),
    ObjectKind.REFUND: (Refund, schemas.refund_out),
    ObjectKind.SUBSCRIPTION: (Subscription, schemas.subscription_out),
    ObjectKind.INVOICE: (Invoice, schemas.invoice_out),
    ObjectKind.DISPUTE: (
        Dispute,
        lambda d: schemas.mirrored(
            d,
            charge_ref=d.charge_ref,
            amount=d.amount,
            currency=d.currency,
            status=d.status,
            reason=d.reason,
        ),
    ),
}


@receiver(mirror_changed, dispatch_uid="api.on_mirror_changed")
def on_mirror_changed(
    sender: Any, *, kind: ObjectKind, created: list[int], updated: list[int], **_: Any
) -> None:
    found = _RENDER.get(kind)
    if found is None or not (created or updated):
        return
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        return
    model, render = found
    fresh = set(created)
    for row in model.objects.filter(pk__in=[*created, *updated]).defer("raw").order_by("pk"):
        verb = "created" if row.pk in fresh else "updated"
        event_emit(
            event_type=f"{kind.value}.{verb}", data=render(row), object_key=f"{kind.value}:{row.pk}"
        )
