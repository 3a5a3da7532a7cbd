"""Narrowing a person search: by subscription status and by when the person was charged.

``person_search`` finds the persons a text designates; these filters keep those who also
have a subscription in a status (``active``, ``past_due``…) and/or a charge in a period, with
one indexed query each over the persons found (at most ``MAX_MATCHES``). The values are
read by ``parse_search_filters`` (``InvalidRequest`` with a reason for anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from billingdesk.billing.models import Charge, Subscription
from billingdesk.core.errors import InvalidRequest
from billingdesk.gateways.interface import SubscriptionStatus

SUBSCRIPTION_STATUSES = tuple(SubscriptionStatus)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    status: str = ""  # a subscription status: the person has a subscription in it
    start: date | None = None  # the person was charged on or after this day …
    end: date | None = None  # … and on or before this one

    def __bool__(self) -> bool:
        return bool(self.status or self.start or self.end)


def parse_search_filters(status: str, start: str, end: str) -> SearchFilters:
    status = (status or "").strip()
    if status and status not in SUBSCRIPTION_STATUSES:
        raise InvalidRequest(_("Choose a subscription status from the list."))
    first = _day(start, _("Charged from"))
    last = _day(end, _("Charged until"))
    if first and last and first > last:
        raise InvalidRequest(_("The period ends before it starts."))
    return SearchFilters(status=status, start=first, end=last)


def _day(text: str, which: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) <= 10 else None
    except ValueError:
        day = None
    if day is None or not 1970 <= day.year <= 9998:
        raise InvalidRequest(_("“%(which)s” must be a date written YYYY-MM-DD.") % {"which": which})
    return day


def persons_kept(person_ids: list[int], filters: SearchFilters) -> set[int]:
    """Those of ``person_ids`` that pass ``filters``."""
    keep = set(person_ids)
    if not keep:
        return keep
    if filters.status:
        keep &= set(
            Subscription.objects.filter(
                customer__person_id__in=keep, status=filters.status, deleted=False
            ).values_list("customer__person_id", flat=True)
        )
    if keep and (filters.start or filters.end):
        charges = Charge.objects.filter(customer__person_id__in=keep, deleted=False)
        if filters.start:
            charges = charges.filter(gateway_created_at__gte=_midnight(filters.start))
        if filters.end:
            charges = charges.filter(
                gateway_created_at__lt=_midnight(filters.end + timedelta(days=1))
            )
        keep &= set(charges.values_list("customer__person_id", flat=True))
    return keep


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
