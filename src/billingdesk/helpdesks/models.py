"""Helpdesk connections, who their agents are in billingdesk, and the tickets we opened.

Embed tokens are *not* stored: they are signed, short-lived and stateless (``embed.py``), so
any web process can check one without a shared table. Each names the connection's
``secret_version``, which changes whenever the connection's secrets change or it is disabled,
so rotating a secret (or disabling the connection) revokes every token issued before, for
good. One-time proofs (a Zendesk JWT) are remembered in ``UsedProof`` until they expire.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings as django_settings
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
    ZAMMAD = "zammad", "Zammad"
    FREESCOUT = "freescout", "FreeScout"
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


_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def validate_domains(value: Any) -> None:
    if not isinstance(value, list):
        raise ValidationError("Agent email domains must be a list.")
    for item in value:
        if not isinstance(item, str) or not _DOMAIN.match(item):
            raise ValidationError(f"{str(item)[:80]!r} is not a domain such as acme.com.")


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
    agent_email_domains = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_domains],
        help_text="Email domains (acme.com) whose agents, when the helpdesk's signed proof names "
        "them, act as the billingdesk user with the same email (never a superuser). Agents "
        "outside these domains need an explicit agent link.",
    )
    # Bumped whenever the secrets change or the connection is disabled: tokens name the
    # version they were issued under, so none survives a rotation or a re-enable.
    secret_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            before = (
                HelpdeskConnection.objects.filter(pk=self.pk)
                .values_list("secrets", "enabled", "secret_version")
                .first()
            )
            if before is not None:
                old_secrets, old_enabled, old_version = before
                if old_secrets != self.secrets or (old_enabled and not self.enabled):
                    self.secret_version = old_version + 1
                    fields = kwargs.get("update_fields")
                    if fields is not None:
                        kwargs["update_fields"] = {*fields, "secret_version"}
        super().save(*args, **kwargs)

    def setting(self, name: str, default: str = "") -> str:
        value = (self.settings or {}).get(name, default)
        return "" if value is None else str(value)

    def secret(self, name: str) -> str:
        value = (self.secrets or {}).get(name, "")
        return "" if value is None else str(value)


class HelpdeskAgentLink(models.Model):
    """An administered link: this helpdesk agent acts as this billingdesk user.

    The helpdesk names its agent by id (Intercom admin id…) and/or email; a link matches on
    the id when it has one, otherwise on the email (case-insensitively).
    """

    connection = models.ForeignKey(
        HelpdeskConnection, on_delete=models.CASCADE, related_name="agent_links"
    )
    agent_id = models.CharField(
        max_length=120, blank=True, help_text="The agent's id in the helpdesk (if it sends one)."
    )
    agent_email = models.EmailField(blank=True, help_text="The agent's email in the helpdesk.")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "agent_id"],
                condition=~models.Q(agent_id=""),
                name="helpdesk_agent_id_once",
            ),
            models.UniqueConstraint(
                fields=["connection", "agent_email"],
                condition=~models.Q(agent_email=""),
                name="helpdesk_agent_email_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(agent_id="", agent_email=""),
                name="helpdesk_agent_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_email or self.agent_id} → {self.user}"

    def clean(self) -> None:
        self.agent_email = (self.agent_email or "").strip().lower()
        self.agent_id = (self.agent_id or "").strip()
        if not (self.agent_email or self.agent_id):
            raise ValidationError("Give the agent's email or id in the helpdesk.")


class UsedProof(models.Model):
    """A one-time proof already accepted (a Zendesk JWT's ``jti``), kept until it expires."""

    key = models.CharField(max_length=64, unique=True)  # sha256(connection, kind, value)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


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
