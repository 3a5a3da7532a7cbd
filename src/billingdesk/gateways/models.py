"""Configured gateway accounts and the records of syncing them: webhook events, backfill runs."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from billingdesk.core.crypto import EncryptedJSONField, EncryptedTextField


def _new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class GatewayAccount(models.Model):
    """One connected account at one gateway (e.g. the "EU store" Stripe account)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40, help_text="Which connector serves this account.")
    name = models.CharField(max_length=200, unique=True)
    credentials = EncryptedJSONField(blank=True, default=dict)
    webhook_secret = EncryptedTextField(blank=True, default=_new_webhook_secret)
    default_currency = models.CharField(max_length=3, blank=True)
    # The gateway dashboard's address, for links from the panel.
    dashboard_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    # Payments and refunds made before this moment are history: mirrored, but no invoice,
    # receipt or credit note is issued (or emailed) for them automatically.
    documents_from = models.DateTimeField(
        default=timezone.now,
        help_text="Issue invoices, receipts and credit notes automatically for payments and "
        "refunds made from this moment on. Earlier history is imported without documents.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by webhook intake when it queues a drain of this account's pending events, cleared
    # by the drain as it starts: one queued job per account, not one per event.
    drain_requested = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def webhook_path(self) -> str:
        return reverse("webhook-intake", kwargs={"account_id": self.id})

    @property
    def webhook_url(self) -> str:
        return settings.BASE_URL + self.webhook_path


class WebhookEvent(models.Model):
    """A webhook request exactly as received, kept until (and after) it is processed.

    Written before anything else happens to the request, so nothing is lost to a crash; the
    status records how far it got.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "received"
        REJECTED = "rejected", "rejected (signature or format)"
        DUPLICATE = "duplicate", "duplicate delivery"
        PENDING = "pending", "verified, waiting to be processed"
        PROCESSED = "processed", "processed"
        FAILED = "failed", "processing failed"

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="events")
    received_at = models.DateTimeField(auto_now_add=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # For a rejected delivery only a prefix of the body is kept (``body``); these say what
    # the whole body was: its size in bytes and its SHA-256 (hex). Empty for the others,
    # whose body is kept whole.
    body_size = models.PositiveIntegerField(null=True, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    # Where a rejected delivery came from (the client address as the server saw it).
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            # Counting an address's recent rejections (the intake's rate limit).
            models.Index(
                fields=["account", "source_ip", "received_at"],
                condition=models.Q(status="rejected"),
                name="webhook_rejected_source",
            ),
        ]
        constraints = [
            # One canonical row per gateway event; repeated deliveries are kept as DUPLICATE.
            models.UniqueConstraint(
                fields=["account", "event_id"],
                condition=models.Q(status__in=["pending", "processed", "failed"]),
                name="webhook_event_once_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} {self.event_id} [{self.status}]"


class SyncRun(models.Model):
    """One backfill of one account: where it is, so a crash resumes instead of restarting."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed (will resume)"

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="sync_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    kind_index = models.PositiveIntegerField(default=0)
    cursor = models.CharField(max_length=500, blank=True)
    counts = models.JSONField(default=dict)
    pages = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["running", "failed"]),
                name="one_unfinished_sync_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"sync {self.account} {self.status}"


class TaskWorker(models.Model):
    """A running ``billingdesk worker`` process, as last heard from (its heartbeat).

    A worker writes ``seen_at`` every few seconds from a thread of its own, even while a long
    job runs. A job claimed by a worker not heard from for ``WORKER_LOST_SECONDS`` has lost
    its process (killed, machine gone) and is put back on the queue by the other workers'
    sweep (``gateways.recovery``). Works for both task engines: the worker id is the
    database queue's ``worker_id`` and the RQ worker's name.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} (seen {self.seen_at:%Y-%m-%d %H:%M:%S})"
