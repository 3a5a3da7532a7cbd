"""Agent actions (each one an idempotent request, possibly awaiting approval) and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from billingdesk.billing.models import Person
from billingdesk.gateways.models import GatewayAccount


class ActionKind(models.TextChoices):
    REFUND = "refund", "refund"
    CAPTURE = "capture", "capture"
    VOID = "void", "void authorisation"
    AUTHORIZE = "authorize", "authorise a payment"
    CANCEL_SUBSCRIPTION = "cancel_subscription", "cancel subscription"
    CREATE_SUBSCRIPTION = "create_subscription", "create subscription"
    SEND_INVOICE = "send_invoice", "send invoice"
    APPLY_COUPON = "apply_coupon", "apply coupon"
    ADD_TAX_ID = "add_tax_id", "add tax id"
    PAYMENT_REQUEST = "payment_request", "payment request"
    DISPUTE_SUBMIT = "dispute_submit", "answer a dispute"
    DISPUTE_ACCEPT = "dispute_accept", "accept a dispute"
    PAUSE_SUBSCRIPTION = "pause_subscription", "pause subscription"
    RESUME_SUBSCRIPTION = "resume_subscription", "resume subscription"
    # Void an unpaid invoice; undo a cancellation at period end (issue 17).
    VOID_INVOICE = "void_invoice", "void invoice"
    REACTIVATE_SUBSCRIPTION = "reactivate_subscription", "reactivate subscription"


class ActionReason(models.Model):
    """One reason agents may give for one kind of action (``actions.reasons``)."""

    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    code = models.SlugField(
        max_length=40,
        help_text="Stored with the action and in the audit log, e.g. too_expensive.",
    )
    label = models.CharField(
        max_length=200,
        blank=True,
        help_text="What agents read. Blank: billingdesk's translated words for the code.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Smaller comes first.")
    active = models.BooleanField(default=True, help_text="Offered to agents.")
    text_required = models.BooleanField(
        default=False, help_text="The agent must also explain in a few words."
    )

    class Meta:
        ordering = ["kind", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="actionreason_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.code}"


class ActionRequest(models.Model):
    """One submitted action. Its idempotency key is unique, so a form submitted twice (a
    double click, a browser retry) finds this row instead of acting again."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", "waiting for approval"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "done"
        FAILED = "failed", "failed"
        DENIED = "denied", "denied"
        # Claimed, the gateway asked, and no answer recorded for too long to ask again safely:
        # someone must look at the gateway (see ``actions.recovery``).
        UNKNOWN = "unknown", "unknown: check the gateway"

    idempotency_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32, choices=ActionKind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    account = models.ForeignKey(GatewayAccount, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL)
    target_kind = models.CharField(max_length=20)
    target_id = models.CharField(max_length=255)
    params = models.JSONField(default=dict)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason_text = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # A failure the gateway may not have seen (network, 429): the same key may try again.
    retryable = models.BooleanField(default=False)
    gateway_request_id = models.CharField(max_length=255, blank=True)
    result_ids = models.JSONField(default=list)
    url = models.URLField(max_length=2000, blank=True)
    # When the request was last claimed to run (status running): the gateway is called after
    # this commits, and a claim left running long after it is reconciled by the sweep.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="actionreq_status_idx"),
            # What was already moved on one record (cumulative limits, in-flight amounts).
            models.Index(fields=["account", "target_id", "kind"], name="actionreq_target_idx"),
            # What one agent moved in the last day.
            models.Index(fields=["requested_by", "created_at"], name="actionreq_agent_idx"),
            # The console's list of agent actions: newest first, paged on (created_at, id).
            models.Index(fields=["-created_at", "-id"], name="actionreq_listed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id} [{self.status}]"


class ActionFile(models.Model):
    """A file an action sends (a dispute's evidence packet), stored by its SHA-256 before
    the request is claimed: the request's params name the digest, so what the gateway is
    sent is exactly what the agent reviewed, even when a retry or the sweep sends it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"file {self.sha256[:12]} ({len(self.data)} bytes)"


class AuditEntry(models.Model):
    """One thing an agent or the system did. Append-only and hash-chained: each entry's hash
    covers its content and the previous entry's hash, so editing or deleting a past entry
    breaks the chain (see ``billingdesk.actions.audit.audit_verify``)."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=300)
    approver_name = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=60)
    result = models.CharField(max_length=30)
    account = models.ForeignKey(
        GatewayAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    target_kind = models.CharField(max_length=20, blank=True)
    target_id = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason_text = models.TextField(blank=True)
    gateway_request_id = models.CharField(max_length=255, blank=True)
    detail = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request = models.ForeignKey(
        ActionRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["person", "-seq"], name="audit_person_idx"),
            # The admin's search by record id, and what happened to one record.
            models.Index(fields=["target_id", "-seq"], name="audit_target_idx"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_name} {self.action} {self.result}"


class AuditHead(models.Model):
    """The chain's last link, one row, locked by each append so appends never fork."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditCheck(models.Model):
    """One verification of the audit chain (``billingdesk audit verify`` or the workers'
    periodic check); the admin shows an alert while the latest one failed."""

    at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    entries = models.PositiveBigIntegerField(default=0)
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    # The checkpoint written to the anchor file after this check, if any.
    anchored_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        get_latest_by = "at"

    def __str__(self) -> str:
        return f"audit check {self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"
