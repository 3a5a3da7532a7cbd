"""Rate limits of the customer forms (the link-by-email form, questions), failing closed.

Each counted attempt is a ``RateHit`` row keyed by a SHA-256 of what is limited, so the
table never holds an address. ``rate_allow`` counts the hits in the window and records one
more when under the limit; any database error refuses (a limiter that cannot count must not
let everything through).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from billingdesk.portal.models import RateHit

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
# Per hour: link emails asked for one address, from one IP address; questions per person.
LINKS_PER_EMAIL = int(getattr(settings, "BILLINGDESK_PORTAL_LINKS_PER_EMAIL", 3))
LINKS_PER_IP = int(getattr(settings, "BILLINGDESK_PORTAL_LINKS_PER_IP", 10))
QUESTIONS_PER_PERSON = int(getattr(settings, "BILLINGDESK_PORTAL_QUESTIONS_PER_PERSON", 5))


def rate_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"billingdesk.portal:{kind}:{value}".encode()).hexdigest()


def rate_allow(*keys_and_limits: tuple[str, int]) -> bool:
    """Whether every ``(key, limit)`` is under its limit in the last hour; if so, count one
    attempt against each. Refuses when the database cannot answer."""
    now = timezone.now()
    since = now - WINDOW
    try:
        with transaction.atomic():
            for key, limit in keys_and_limits:
                if RateHit.objects.filter(key=key, at__gte=since).count() >= limit:
                    return False
            RateHit.objects.bulk_create([RateHit(key=key, at=now) for key, _ in keys_and_limits])
            RateHit.objects.filter(key__in=[k for k, _ in keys_and_limits], at__lt=since).delete()
    except DatabaseError:
        logger.exception("the portal rate limiter could not count; refusing")
        return False
    return True
