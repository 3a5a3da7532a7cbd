"""Every inbound email, stored (card numbers already masked) before it is processed."""

from __future__ import annotations

from django.db import models

from billingdesk.helpdesks.models import HelpdeskConnection


class InboundMessage(models.Model):
    """One received message and what became of it; unique by Message-ID (idempotent intake)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "received (waiting to be processed)"
        TICKETED = "ticketed", "in the helpdesk"
        IGNORED = "ignored", "ignored (auto-reply, bounce, loop or rate limit)"
        FAILED = "failed", "failed"

    class Match(models.TextChoices):
        TOKEN = "token", "routing address"
        THREAD = "thread", "In-Reply-To / References"
        SENDER = "sender", "sender's address"
        UNMATCHED = "unmatched", "unmatched"

    message_id = models.CharField(max_length=300, unique=True)
    source = models.CharField(max_length=30, help_text="smtp, lmtp, or the provider's name.")
    envelope_from = models.CharField(max_length=320, blank=True)
    null_sender = models.BooleanField(default=False, help_text="MAIL FROM:<> (a bounce).")
    envelope_to = models.JSONField(default=list, blank=True)
    from_email = models.CharField(max_length=320, blank=True, db_index=True)
    subject = models.CharField(max_length=300, blank=True)
    # The message as received, with every card number masked, at most INBOUND_MAX_BYTES.
    raw = models.BinaryField()
    raw_size = models.PositiveIntegerField(help_text="Size as received, in bytes.")
    pan_redacted = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.CharField(max_length=500, blank=True)
    matched_by = models.CharField(max_length=10, choices=Match.choices, blank=True)
    document_id = models.BigIntegerField(null=True, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    connection = models.ForeignKey(
        HelpdeskConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_id = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_idx"),
            models.Index(fields=["from_email", "received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"
