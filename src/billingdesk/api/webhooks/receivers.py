"""The mirror's changes as events (``<kind>.created`` and ``<kind>.updated``), and the action
service's as ``action.<result>`` and ``approval.<requested|approved|denied|refused>``.

Runs inside the upsert transaction: the events commit with the change (stored before they
are sent) and their delivery jobs are enqueued after it. Nothing is read when no endpoint is
active, so a backfill without webhook endpoints costs one query per batch.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billingdesk.actions.models import ActionRequest
from billingdesk.actions.signals import action_recorded
from billingdesk.api.models import WebhookEndpoint
from billingdesk.api.v1 import schemas
from billingdesk.api.v1.actions import request_out
from billingdesk.api.webhooks.services import Event, event_emit, events_emit
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
    rows = model.objects.filter(pk__in=[*created, *updated]).defer("raw").order_by("pk")
    events_emit(
        [
            Event(
                f"{kind.value}.{'created' if row.pk in fresh else 'updated'}",
                render(row),
                f"{kind.value}:{row.pk}",
            )
            for row in rows
        ]
    )


# The results of an approval request; every other result is the action's own.
_APPROVAL = {"approval_requested": "requested", "approved": "approved", "denied": "denied"}


@receiver(action_recorded, dispatch_uid="api.on_action_recorded")
def on_action_recorded(
    sender: Any, *, request: ActionRequest, result: str, action: str, **_: Any
) -> None:
    """``approval.*`` for the approval steps, ``action.<result>`` for the rest."""
    if result in _APPROVAL:
        event_type = f"approval.{_APPROVAL[result]}"
    elif action.endswith(".approval"):
        event_type = f"approval.{result}"
    else:
        event_type = f"action.{result}"
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        return
    data = {**request_out(request), "result": result, "action": action}
    event_emit(event_type=event_type, data=data, object_key=f"action:{request.pk}")
