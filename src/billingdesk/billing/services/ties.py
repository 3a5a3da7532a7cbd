"""The order of two versions of an object stamped with the same time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    InvoiceStatus,
    ObjectKind,
    RefundStatus,
)

# Two versions of an object stamped with the same time (Stripe's are whole seconds, and it
# promises no order between the events of one second) are ordered by how far along each is,
# for the kinds whose state only moves forward: ``invoice.finalized`` then ``invoice.paid``
# in either order leave the invoice paid, ``charge.captured`` never undoes
# ``charge.refunded``. A deleted object stays deleted. Other kinds keep arrival order.
_PROGRESS: dict[ObjectKind, tuple[str, dict[str, int]]] = {
    ObjectKind.INVOICE: (
        "status",
        {
            InvoiceStatus.DRAFT: 0,
            InvoiceStatus.OPEN: 1,
            InvoiceStatus.UNCOLLECTIBLE: 2,
            InvoiceStatus.PAID: 3,
            InvoiceStatus.VOID: 3,
        },
    ),
    ObjectKind.CHARGE: (
        "status",
        {
            ChargeStatus.PENDING: 0,
            ChargeStatus.AUTHORIZED: 1,
            ChargeStatus.FAILED: 2,
            ChargeStatus.CAPTURED: 2,
            ChargeStatus.VOIDED: 3,
            ChargeStatus.PARTIALLY_REFUNDED: 3,
            ChargeStatus.REFUNDED: 4,
            ChargeStatus.DISPUTED: 5,
        },
    ),
    ObjectKind.REFUND: (
        "status",
        {
            RefundStatus.PENDING: 0,
            RefundStatus.SUCCEEDED: 1,
            RefundStatus.FAILED: 1,
            RefundStatus.CANCELED: 1,
        },
    ),
    ObjectKind.DISPUTE: (
        "status",
        {
            DisputeStatus.WARNING: 0,
            DisputeStatus.NEEDS_RESPONSE: 0,
            DisputeStatus.UNDER_REVIEW: 1,
            DisputeStatus.WON: 2,
            DisputeStatus.LOST: 2,
        },
    ),
}
# Amounts that only grow, as a second key (a refund more, a payment more).
_PROGRESS_AMOUNTS: dict[ObjectKind, tuple[str, ...]] = {
    ObjectKind.INVOICE: ("amount_paid",),
    ObjectKind.CHARGE: ("amount_refunded", "amount_captured"),
}


def _progress(kind: ObjectKind, get: Callable[[str], Any]) -> tuple[int, ...]:
    """How far along a version is, from ``get(attribute)``: compared only between two
    versions with the same timestamp."""
    key = [int(bool(get("deleted")))]
    if kind in _PROGRESS:
        name, ranks = _PROGRESS[kind]
        key.append(ranks.get(str(get(name)), 0))
    key.extend(int(get(name) or 0) for name in _PROGRESS_AMOUNTS.get(kind, ()))
    return tuple(key)
