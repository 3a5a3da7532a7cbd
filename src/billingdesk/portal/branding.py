"""Whose pages these are: the brand a person's billing pages wear, and who may frame them.

A person's brand is the brand of the gateway account of their oldest gateway record (the
brand that covers it, else the default brand: ``documents.services.brand_for_account``, the
same rule as their invoices). The pages show its name, logo, colours and legal footer, and
the support contact of its ``BrandPortal`` settings. Framing is denied unless the brand lists
the origins of the merchant's sites allowed to embed the pages: then ``frame-ancestors``
names exactly those, and ``X-Frame-Options`` (which cannot list origins) is left out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import HttpResponse

from billingdesk.billing.models import Customer
from billingdesk.documents.models import Brand

_NEUTRAL = ("#1F4E79", "#E8EEF4")


def origin_clean(raw: str) -> str:
    """One origin (``https://shop.example.com[:port]``), or ValidationError saying why not."""
    text = raw.strip()
    parts = urlsplit(text)
    local = parts.hostname in ("localhost", "127.0.0.1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValidationError(f"{text!r}: an origin starts with https://")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError(f"{text!r}: give only the scheme, host and port, no path")
    if parts.username or parts.password or any(c in text for c in " ;,'\"*"):
        raise ValidationError(f"{text!r} is not a plain origin")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def origins_parse(text: str) -> list[str]:
    return [origin_clean(line) for line in text.splitlines() if line.strip()]


def _luminance(colour: str) -> float:
    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG contrast ratio)."""
    lum = _luminance(colour)
    on_white = (1.05) / (lum + 0.05)
    on_black = (lum + 0.05) / 0.05
    return "#FFFFFF" if on_white >= on_black else "#000000"


def _colour(value: str, fallback: str) -> str:
    ok = (
        len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )
    return value.upper() if ok else fallback


@dataclass(frozen=True)
class Look:
    """What the page shows of the brand (nothing of it for pages of no known person)."""

    name: str = ""
    logo: str = ""  # a data: URL of the brand's PNG logo
    primary: str = _NEUTRAL[0]
    on_primary: str = "#FFFFFF"
    accent: str = _NEUTRAL[1]
    footer: str = ""
    support_email: str = ""
    support_url: str = ""
    frame_origins: list[str] = field(default_factory=list)


NO_BRAND = Look()


def look_of(brand: Brand | None) -> Look:
    if brand is None:
        return NO_BRAND
    settings = getattr(brand, "portal", None) if brand.pk else None
    logo = bytes(brand.logo_png or b"")
    primary = _colour(brand.primary_color, _NEUTRAL[0])
    try:
        origins = origins_parse(settings.frame_origins) if settings else []
    except ValidationError:
        origins = []  # saved before validation, or edited in the database: deny
    return Look(
        name=brand.name,
        logo="data:image/png;base64," + base64.b64encode(logo).decode() if logo else "",
        primary=primary,
        on_primary=text_on(primary),
        accent=_colour(brand.accent_color, _NEUTRAL[1]),
        footer=brand.footer,
        support_email=settings.support_email if settings else "",
        support_url=settings.support_url if settings else "",
        frame_origins=origins,
    )


# The look of each gateway account's brand, kept for LOOK_SECONDS in
# this process and dropped when a brand, its accounts or its portal settings change here.
LOOK_SECONDS = 30.0
_LOOKS: dict[uuid.UUID, tuple[float, Look]] = {}


def _brand_of(account_id: uuid.UUID | None) -> Brand | None:
    brands = Brand.objects.select_related("portal")
    if account_id is not None:
        found = brands.filter(accounts__id=account_id).first()
        if found is not None:
            return found
    return brands.filter(is_default=True).first()


def look_for_person(person_id: int) -> Look:
    """The look of the brand of the person's oldest gateway record (else the default brand):
    the same brand as ``documents.services.brand_for_account`` gives their invoices."""
    account_id = (
        Customer.objects.filter(person_id=person_id, deleted=False)
        .order_by("pk")
        .values_list("account_id", flat=True)
        .first()
    )
    if account_id is None:  # no gateway record (yet): the default brand, not kept
        return look_of(_brand_of(None))
    now = time.monotonic()
    kept = _LOOKS.get(account_id)
    if kept is not None and kept[0] > now:
        return kept[1]
    look = look_of(_brand_of(account_id))
    if len(_LOOKS) > 1000:
        _LOOKS.clear()
    _LOOKS[account_id] = (now + LOOK_SECONDS, look)
    return look


@receiver(post_save, sender=Brand, dispatch_uid="portal-look-brand-saved")
@receiver(post_delete, sender=Brand, dispatch_uid="portal-look-brand-deleted")
@receiver(post_save, sender="portal.BrandPortal", dispatch_uid="portal-look-settings-saved")
@receiver(post_delete, sender="portal.BrandPortal", dispatch_uid="portal-look-settings-deleted")
@receiver(m2m_changed, sender=Brand.accounts.through, dispatch_uid="portal-look-accounts")
def looks_forget(**_kwargs: object) -> None:
    _LOOKS.clear()


def framing_apply(response: HttpResponse, look: Look) -> None:
    """``frame-ancestors`` for the brand's origins, or no framing at all."""
    if look.frame_origins:
        response["Content-Security-Policy"] = "frame-ancestors " + " ".join(look.frame_origins)
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    else:
        response["X-Frame-Options"] = "DENY"
        response["Content-Security-Policy"] = "frame-ancestors 'none'"


# --- embedding URLs the merchant's backend signs --------------------------------------------

EMBED_MAX_SECONDS = 3600  # an embedding URL may be valid for at most an hour


def embed_signature(secret: str, *, brand_id: int, customer: str, expires: int) -> str:
    """HMAC-SHA256 (hex) of ``<brand id>:<gateway customer id>:<expiry, unix seconds>``."""
    message = f"{brand_id}:{customer}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def embed_person(*, brand_id: str, customer: str, expires: str, signature: str) -> int | None:
    """The person an embedding URL opens, or None when it is not valid: unknown brand or no
    secret, bad signature (compared in constant time), expired or too far ahead, or a
    customer of no account of that brand."""
    from billingdesk.portal.models import BrandPortal

    if not (brand_id.isdigit() and expires.isdigit() and customer and len(customer) <= 255):
        return None
    settings = BrandPortal.objects.filter(brand_id=int(brand_id)).first()
    if settings is None or not settings.embed_secret:
        return None
    expected = embed_signature(
        settings.embed_secret, brand_id=int(brand_id), customer=customer, expires=int(expires)
    )
    if not hmac.compare_digest(expected, signature.lower()):
        return None
    now = time.time()
    if not now <= int(expires) <= now + EMBED_MAX_SECONDS:
        return None
    person_id = (
        Customer.objects.filter(
            gateway_id=customer, deleted=False, account__in=settings.brand.accounts.all()
        )
        .values_list("person_id", flat=True)
        .first()
    )
    return int(person_id) if person_id else None
