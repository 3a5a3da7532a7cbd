"""Gapless document numbers: a counter row per series (and year), locked in the caller's
transaction.

The next number is taken by locking the series' counter row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the whole database is write-locked by the ``BEGIN IMMEDIATE``
transaction that settings configure), incrementing it and inserting the document in the same
transaction. A rollback undoes the increment too, so no number is lost, and the unique
``(series, number)`` constraint is the safety net against duplicates. Never a database
sequence: sequences are not transactional and leave gaps (PostgreSQL docs, nextval).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.models import DocumentSeries, SeriesCounter

# Rule 46(b) CGST Rules: at most 16 characters, letters, digits, "-" and "/" only.
_IN_ALLOWED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-/")


def number_next(*, series: DocumentSeries, issued_at: datetime) -> str:
    """Take the next number of ``series``; must run inside the transaction that stores the
    document."""
    if not connection.in_atomic_block:
        raise RuntimeError("number_next must run inside the document's transaction")
    period = issued_at.year if series.reset_yearly else 0
    # Create the counter row if this is the period's first document; ignore_conflicts makes a
    # concurrent first insert harmless (ON CONFLICT DO NOTHING / INSERT OR IGNORE).
    SeriesCounter.objects.bulk_create(
        [SeriesCounter(series=series, period=period, value=0)], ignore_conflicts=True
    )
    counter = SeriesCounter.objects.select_for_update().get(series=series, period=period)
    SeriesCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    seq = counter.value + 1
    number = series.number_format.format(prefix=series.prefix, year=issued_at.year, seq=seq)
    if series.legal_entity.country == "IN" and (len(number) > 16 or not set(number) <= _IN_ALLOWED):
        raise InvalidRequest(
            f"document number {number!r} breaks India's rule 46: at most 16 characters of "
            "letters, digits, '-' and '/'",
        )
    return number


def number_take(*, series: DocumentSeries) -> tuple[str, datetime]:
    """The next number of ``series`` and the issue time, taken **after** the series lock.

    Issuers of one series queue on its row (``SELECT … FOR UPDATE``; on SQLite the
    ``BEGIN IMMEDIATE`` write lock is already held), and only then read the clock: a time read
    before waiting would stamp a later number with an earlier time under load. Must run
    inside the transaction that stores the document."""
    if not connection.in_atomic_block:
        raise RuntimeError("number_take must run inside the document's transaction")
    DocumentSeries.objects.select_for_update().filter(pk=series.pk).exists()
    issued_at = timezone.now()
    return number_next(series=series, issued_at=issued_at), issued_at


def series_for(*, legal_entity_id: int, kind: str) -> DocumentSeries:
    try:
        return DocumentSeries.objects.select_related("legal_entity").get(
            legal_entity_id=legal_entity_id, kind=kind
        )
    except DocumentSeries.DoesNotExist:
        raise InvalidRequest(
            f"the legal entity has no {kind.replace('_', ' ')} series; add one in the admin",
            code="series_missing",
        ) from None
