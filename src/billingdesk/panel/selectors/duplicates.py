"""Probable duplicate charges: the same amount, card and customer within a short window.

A customer who says "you charged me twice" is usually right when two successful charges of
the same amount on the same card follow each other within minutes (a double click on a
checkout, a retried request). Both rows are marked; the later one is the one to refund.

A pair is looked for in the customer's whole history, not only among the rows shown: the
other charge of a pair may sit on the next page of the panel, or outside a list's filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings

from billingdesk.billing.models import Charge

# Charges that took money (a failed or voided attempt is no duplicate payment).
_PAID = frozenset({"captured", "partially_refunded", "refunded"})
# What pairing reads of a charge not shown (and the badge names it by its gateway id).
_PAIRING_FIELDS = (
    "customer_id", "amount", "currency", "status", "gateway_created_at", "payment_method_id",
    "card_brand", "card_last4", "gateway_id",
)  # fmt: skip
# At most this many charges not shown are read to complete pairs (a page of rows shown
# rarely has more than a couple of neighbours within the window).
_NEIGHBOURS_MAX = 500


def _card(charge: Charge) -> tuple[object, ...]:
    if charge.payment_method_id is not None:
        return ("pm", charge.payment_method_id)
    return ("card", charge.card_brand, charge.card_last4)


def _pairable(charge: Charge) -> bool:
    return (
        charge.status in _PAID
        and charge.gateway_created_at is not None
        and (charge.payment_method_id is not None or bool(charge.card_last4))
    )


def _neighbours(shown: list[Charge], window: timedelta) -> list[Charge]:
    """The customers' other paid charges of the amounts shown, from ``window`` before the
    oldest row shown to ``window`` after the newest: one query on the (customer, created)
    index."""
    times = [c.gateway_created_at for c in shown if c.gateway_created_at is not None]
    if not times:
        return []
    rows = (
        Charge.objects.filter(
            customer_id__in={c.customer_id for c in shown},
            amount__in={c.amount for c in shown},
            status__in=_PAID,
            deleted=False,
            gateway_created_at__gte=min(times) - window,
            gateway_created_at__lte=max(times) + window,
        )
        .exclude(pk__in=[c.pk for c in shown])
        .only(*_PAIRING_FIELDS)
        .order_by("gateway_created_at", "id")[:_NEIGHBOURS_MAX]
    )
    return [c for c in rows if _pairable(c)]


def duplicates_mark(charges: Sequence[Charge]) -> None:
    """Set ``duplicate_of`` (the other charge) on each charge of a probable pair, and
    ``duplicate_refundable`` on the later one of each pair, the one to refund.

    The other charge may be one not in ``charges`` (read in one query): pairs are the same
    whichever page of the history is shown."""
    window = timedelta(seconds=settings.DUPLICATE_CHARGE_WINDOW_SECONDS)
    for charge in charges:
        charge.duplicate_of = None  # type: ignore[attr-defined]
        charge.duplicate_refundable = False  # type: ignore[attr-defined]
    shown = [c for c in charges if _pairable(c)]
    if not shown:
        return
    hidden = _neighbours(shown, window)
    for charge in hidden:
        charge.duplicate_of = None  # type: ignore[attr-defined]
    paid = shown + hidden
    paid.sort(key=lambda c: (c.gateway_created_at, c.pk))
    shown_ids = {c.pk for c in shown}
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
                if later.pk in shown_ids:
                    later.duplicate_refundable = later.refundable > 0  # type: ignore[attr-defined]
                break
