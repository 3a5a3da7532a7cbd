"""Helpdesk connections, and the tickets billingdesk opened in them.

Embed tokens are *not* stored: they are signed, short-lived and stateless (``embed.py``), so
any web process can check one without a shared table or cache, and a connection is revoked by
disabling it (every token use re-reads the connection) or by rotating ``SECRET_KEY``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from billingdesk.core.crypto import EncryptedJSONField

# scheme://host[:port], the host may start with one "*." wildcard label (Front).
_ORIGIN = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)

_LOCAL_HOST = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?$")


class HelpdeskKind(models.TextChoices):
    ZENDESK = "zendesk", "Zendesk"
    HELPSCOUT = "helpscout", "Help Scout"
    INTERCOM = "intercom", "Intercom"
    FRONT = "front", "Front"
    FRESHDESK = "freshdesk", "Freshdesk"
    CHATWOOT = "chatwoot", "Chatwoot"
    IFRAME = "iframe", "Any helpdesk (signed iframe URL)"


def origin_clean(value: str) -> str:
    """A frame origin as CSP wants it, or ``ValidationError``.

    Strict on purpose: the value goes into a response header, so nothing but
    ``scheme://host[:port]`` may pass (no paths, spaces, quotes or semicolons).
    """
    origin = (value or "").strip().lower().rstrip("/")
    if not _ORIGIN.match(origin):
        raise ValidationError(
            f"{value!r} is not an origin: write it as https://host or https://host:port "
            "(https://*.example.com for every subdomain)."
        )
    # A page framing the panel over plain http can be rewritten by anyone on its network,
    # who would then frame an agent's panel: https only, except a local development host.
    if origin.startswith("http://") and _LOCAL_HOST.match(origin) is None:
        raise ValidationError(
            f"{value!r} is not https: the panel may only be framed by https pages "
            "(http is allowed for localhost and 127.0.0.1 only)."
        )
    return origin


def validate_origins(value: Any) -> None:
    if not isinstance(value, list):
        raise ValidationError("Frame origins must be a list.")
    for item in value:
        origin_clean(str(item))


class HelpdeskConnection(models.Model):
    """One helpdesk account billingdesk is installed in."""

    # A random id: it appears in embed URLs, so it should not be guessable in sequence.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=HelpdeskKind.choices)
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Non-secret settings of this kind (subdomain, mailbox id, API base URL…).",
    )
    secrets = EncryptedJSONField(
        default=dict,
        blank=True,
        help_text="Signing secrets and API tokens, encrypted at rest.",
    )
    allowed_frame_origins = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text="Origins allowed to frame the panel besides the helpdesk's own "
        "(https://support.acme.com).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def setting(self, name: str, default: str = "") -> str:
        value = (self.settings or {}).get(name, default)
        return "" if value is None else str(value)

    def secret(self, name: str) -> str:
        value = (self.secrets or {}).get(name, "")
        return "" if value is None else str(value)


class HelpdeskTicket(models.Model):
    """A ticket billingdesk created (or noted on), so a retry never opens a second one."""

    connection = models.ForeignKey(
        HelpdeskConnection, on_delete=models.CASCADE, related_name="tickets"
    )
    external_id = models.CharField(max_length=200)
    ticket_id = models.CharField(max_length=120)
    person_id = models.BigIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    note_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="helpdesk_ticket_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection.name} #{self.ticket_id}"
