"""API keys (a named service identity each) and outgoing event webhooks.

A key is shown once, when it is made; only its SHA-256 digest and its public prefix are kept.
The secret part is 256 random bits, so a fast digest is as strong as a password hash here (no
dictionary to try) and costs nothing per request; the prefix finds the row, the digest is
compared in constant time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from billingdesk.core.crypto import EncryptedTextField


class Scope(models.TextChoices):
    READ = "read", "read"
    ACTIONS = "actions", "run agent actions"
    PUSH = "push", "push records of custom gateways"
    REPORTS = "reports", "reports"
    ADMIN = "admin", "administer webhooks"


class ApiKey(models.Model):
    name = models.CharField(max_length=200, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    # The key's identity in the audit log and for the action rules (an agent-role user).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key", editable=False
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    # One address or network (CIDR) a line; empty = any address.
    allowed_ips = models.TextField(blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (bdk_{self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class ApiKeyWindow(models.Model):
    """Requests one key made in one minute (the rate limit's counter)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "minute"], name="one_window")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.minute:%H:%M} {self.count}"


class WebhookEndpoint(models.Model):
    """Where events are sent, signed per Standard Webhooks with this endpoint's secret."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=300, blank=True)
    # Event types ("charge.updated") or families ("charge.*"); empty = every event.
    event_types = models.JSONField(default=list, blank=True)
    secret = EncryptedTextField(editable=False)
    # The secret before the last rotation, still signed with until ``previous_until``.
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failure of the current run of failures (None while deliveries succeed).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        if not self.event_types:
            return True
        family = event_type.split(".", 1)[0] + ".*"
        return event_type in self.event_types or family in self.event_types


class WebhookMessage(models.Model):
    """One event, stored before it is sent; its body is the exact bytes signed."""

    msg_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=60)
    # "charge:12": deliveries about the same object are sent in order.
    object_key = models.CharField(max_length=80, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.msg_id} {self.event_type}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RETRYING = "retrying", "retrying"
        SUCCEEDED = "succeeded", "delivered"
        FAILED = "failed", "failed (gave up)"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "message"], name="one_delivery")]
        indexes = [models.Index(fields=["endpoint", "status"], name="delivery_status_idx")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.message_id} → {self.endpoint_id} [{self.status}]"


class WebhookAttempt(models.Model):
    """One request of a delivery: the delivery log (request, response, latency)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    request_headers = models.JSONField(default=dict)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"
