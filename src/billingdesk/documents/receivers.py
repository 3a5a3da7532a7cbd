"""Issue documents when the mirror records a payment, a refund or a customer's tax id.

The receiver runs inside the mirror's upsert transaction, so it only filters ids and enqueues
work on commit; the tasks (and the services they call) are idempotent, so a webhook delivered
twice or a backfill replaying history issues nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.dispatch import receiver

from billingdesk.billing.models import Charge, Refund, TaxId
from billingdesk.billing.signals import mirror_changed
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.services import PAID_STATUSES
from billingdesk.documents.tasks import (
    credit_note_for_refund_task,
    document_for_charge_task,
    reissue_for_tax_id_task,
)
from billingdesk.gateways.interface import ObjectKind, RefundStatus


@receiver(mirror_changed, dispatch_uid="documents.on_mirror_changed")
def on_mirror_changed(
    sender: Any, *, kind: ObjectKind, created: list[int], updated: list[int], **_: Any
) -> None:
    ids = [*created, *updated]
    if not ids:
        return
    # A backfill imports years of history: documenting (and emailing) all of it would issue
    # invoices dated today for old payments. Only what happened after the account's
    # documents_from moment gets documents automatically.
    recent = Q(gateway_created_at__isnull=True) | Q(
        gateway_created_at__gte=F("account__documents_from")
    )
    if kind == ObjectKind.CHARGE:
        paid = Charge.objects.filter(
            recent, pk__in=ids, status__in=PAID_STATUSES, documents__isnull=True
        )
        for charge_id in paid.values_list("pk", flat=True):
            enqueue_on_commit(document_for_charge_task, charge_id)
    elif kind == ObjectKind.REFUND:
        # A credit note corrects an invoice: a refund of a historical charge gets one only if
        # that charge was documented (by hand, or before the cutoff moved).
        charge_recent = Q(charge__gateway_created_at__isnull=True) | Q(
            charge__gateway_created_at__gte=F("account__documents_from")
        )
        done = Refund.objects.filter(
            charge_recent | Q(charge__documents__isnull=False),
            pk__in=ids,
            status=RefundStatus.SUCCEEDED,
            documents__isnull=True,
        ).distinct()
        for refund_id in done.values_list("pk", flat=True):
            enqueue_on_commit(credit_note_for_refund_task, refund_id)
    elif kind == ObjectKind.TAX_ID:
        customers = TaxId.objects.filter(
            pk__in=created, deleted=False, customer__isnull=False
        ).values_list("customer_id", flat=True)
        for customer_id in set(customers):
            enqueue_on_commit(reissue_for_tax_id_task, customer_id)
