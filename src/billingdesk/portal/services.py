"""Making, revoking and reading the signed customer billing links.

A link is ``signing.dumps({"p": person id, "v": link version})`` with this module's salt:
HMAC-SHA256 over the payload and a timestamp (Django's ``TimestampSigner``), compared in
constant time. ``link_read`` says precisely why a link is refused, so the page can say it.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billingdesk.billing.models import Person
from billingdesk.portal.models import PortalAccess

SALT = "billingdesk.portal.link"
# A link works this long after it was made; the session it opens, much less.
LINK_MAX_AGE = int(getattr(settings, "BILLINGDESK_PORTAL_LINK_SECONDS", 7 * 24 * 3600))
SESSION_SECONDS = int(getattr(settings, "BILLINGDESK_PORTAL_SESSION_SECONDS", 30 * 60))


class Refusal(StrEnum):
    TAMPERED = "tampered"
    EXPIRED = "expired"
    REVOKED = "revoked"


class LinkRefused(Exception):
    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


def _access(person: Person) -> PortalAccess:
    access, _ = PortalAccess.objects.get_or_create(person=person)
    return access


def access_version(person: Person) -> int:
    """The link version a new link (or a merchant's embedding URL) of ``person`` carries."""
    with transaction.atomic():
        access = _access(person)
        if access.revoked_at is not None:
            # A new link after a revocation: allowed, the old ones keep their old version.
            access.revoked_at = None
            access.save(update_fields=["revoked_at"])
    return access.version


def portal_token_create(*, person: Person) -> str:
    return signing.dumps({"p": person.pk, "v": access_version(person)}, salt=SALT)


def portal_link_create(*, person: Person) -> str:
    """The absolute URL of a fresh billing link for ``person`` (on ``BASE_URL``)."""
    token = portal_token_create(person=person)
    return settings.BASE_URL + reverse("portal:open", kwargs={"token": token})


def portal_link_revoke(*, person: Person) -> None:
    """Every link made so far for ``person``, and every session opened from one, stops."""
    with transaction.atomic():
        access = PortalAccess.objects.select_for_update().filter(person=person).first()
        if access is None:
            access = PortalAccess.objects.create(person=person, version=1)
        access.version += 1
        access.revoked_at = timezone.now()
        access.save(update_fields=["version", "revoked_at"])


def access_current(*, person_id: int, version: int) -> bool:
    """Whether links (and sessions) of ``version`` still work for this person."""
    return PortalAccess.objects.filter(
        person_id=person_id, version=version, revoked_at__isnull=True
    ).exists()


def link_read(token: str) -> tuple[int, int]:
    """(person id, version) of a valid link, or ``LinkRefused`` saying why."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkRefused(Refusal.EXPIRED) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise LinkRefused(Refusal.TAMPERED) from None
    person_id = payload.get("p") if isinstance(payload, dict) else None
    version = payload.get("v") if isinstance(payload, dict) else None
    if not isinstance(person_id, int) or not isinstance(version, int):
        raise LinkRefused(Refusal.TAMPERED)
    if not (0 < person_id < 2**63 and 0 < version < 2**31):
        raise LinkRefused(Refusal.TAMPERED)
    if not access_current(person_id=person_id, version=version):
        raise LinkRefused(Refusal.REVOKED)
    return person_id, version
