"""Probable duplicate charges: the same amount, card and customer within a short window.

A customer who says "you charged me twice" is usually right when two successful charges of
the same amount on the same card follow each other within minutes (a double click on a
checkout, a retried request). Both rows are marked; the later one is the one to refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings

from billingdesk.billing.models import Charge

# Charges that took money (a failed or voided attempt is no duplicate payment).
_PAID = frozenset({"captured", "partially_refunded", "refunded"})


def _card(charge: Charge) -> tuple[object, ...]:
    if charge.payment_method_id is not None:
        return ("pm", charge.payment_method_id)
    return ("card", charge.card_brand, charge.card_last4)


def duplicates_mark(charges: Sequence[Charge]) -> None:
    """Set ``duplicate_of`` (the other charge) on each charge of a probable pair, and
    ``duplicate_refundable`` on the later one of each pair, the one to refund."""
    window = timedelta(seconds=settings.DUPLICATE_CHARGE_WINDOW_SECONDS)
    for charge in charges:
        charge.duplicate_of = None  # type: ignore[attr-defined]
        charge.duplicate_refundable = False  # type: ignore[attr-defined]
    paid = [
        c
        for c in charges
        if c.status in _PAID
        and c.gateway_created_at is not None
        and (c.payment_method_id is not None or c.card_last4)
    ]
    paid.sort(key=lambda c: (c.gateway_created_at, c.pk))
    for i, later in enumerate(paid):
        for earlier in reversed(paid[:i]):
            assert later.gateway_created_at is not None and earlier.gateway_created_at is not None
            if later.gateway_created_at - earlier.gateway_created_at > window:
                break
            if (
                earlier.customer_id == later.customer_id
                and earlier.amount == later.amount
                and earlier.currency == later.currency
                and _card(earlier) == _card(later)
                and earlier.duplicate_of is None  # type: ignore[attr-defined]
            ):
                earlier.duplicate_of = later  # type: ignore[attr-defined]
                later.duplicate_of = earlier  # type: ignore[attr-defined]
                later.duplicate_refundable = later.refundable > 0  # type: ignore[attr-defined]
                break
