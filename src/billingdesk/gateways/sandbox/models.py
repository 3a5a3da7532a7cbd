"""The sandbox gateway's own state: its objects, its events and their delivery, idempotency keys.

These tables are the "gateway side" of the sandbox and are deliberately separate from the
billing mirror (``billingdesk.billing``): the mirror learns about them only through the
connector (backfill pages and signed webhooks), exactly as it would from a real gateway.
"""

from __future__ import annotations

from django.db import models

from billingdesk.gateways.models import GatewayAccount


class SandboxAccount(models.Model):
    """Per-account settings and counters of the sandbox gateway."""

    account = models.OneToOneField(
        GatewayAccount, on_delete=models.CASCADE, primary_key=True, related_name="sandbox"
    )
    # Off while seeding history: the backfill imports it instead.
    webhooks_enabled = models.BooleanField(default=True)
    invoice_prefix = models.CharField(max_length=12)
    next_invoice_number = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"sandbox of {self.account_id}"


class SandboxObject(models.Model):
    """One gateway object (customer, charge, …) as JSON shaped like the sandbox's API.

    ``seq`` only grows, so listing by it gives stable pages even while objects change.
    """

    seq = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    data = models.JSONField()
    created = models.DateTimeField()
    updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "object_id"], name="sandbox_object_id")
        ]
        indexes = [models.Index(fields=["account", "kind", "seq"], name="sandbox_object_page")]

    def __str__(self) -> str:
        return self.object_id


class SandboxEvent(models.Model):
    """An event the sandbox emitted, with the state of its webhook delivery."""

    class Delivery(models.TextChoices):
        OFF = "off", "not delivered (webhooks off)"
        PENDING = "pending", "waiting to be delivered"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "gave up after retries"

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=64)
    type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    # The whole event as sent: {"id", "object": "event", "type", "created", "data": {...}}.
    payload = models.JSONField()
    created = models.DateTimeField()
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.OFF)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "event_id"], name="sandbox_event_id")
        ]
        indexes = [models.Index(fields=["account", "object_id"], name="sandbox_event_object")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class SandboxIdempotencyKey(models.Model):
    """The first result of an action sent with an idempotency key, replayed on a retry."""

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=40)
    # SHA-256 of the operation's parameters: the same key with other parameters is refused.
    fingerprint = models.CharField(max_length=64)
    # {"objects": [object JSON…], "url": str} or {"error": {"message", "decline_code"}}.
    response = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="sandbox_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
