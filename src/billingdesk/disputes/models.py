"""What billingdesk keeps about a dispute besides its mirror row: the merchant's policies
quoted as evidence, who answers it, and the evidence packets assembled for review."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billingdesk.billing.models import Dispute
from billingdesk.documents.models import Brand
from billingdesk.gateways.models import GatewayAccount


class RefundPolicy(models.Model):
    """The refund and cancellation policy of one gateway account, or of a brand (used for
    the brand's accounts that have none of their own), quoted in dispute evidence."""

    account = models.OneToOneField(
        GatewayAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    brand = models.OneToOneField(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    refund_policy = models.TextField(
        help_text="The refund policy as customers are shown it (quoted word for word)."
    )
    cancellation_policy = models.TextField(
        blank=True, help_text="How a subscription is cancelled, as customers are shown it."
    )
    disclosure = models.TextField(
        blank=True,
        help_text="Where and how customers see the policy (checkout page, terms link…).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "refund policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, brand__isnull=True)
                | Q(account__isnull=True, brand__isnull=False),
                name="refundpolicy_account_or_brand",
            )
        ]

    def __str__(self) -> str:
        return f"refund policy of {self.account or self.brand}"


class DisputeCase(models.Model):
    """Who answers a dispute, and which deadline reminders were already sent."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="case")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The "days before the deadline" reminders already sent ([5, 2]), so each goes once.
    reminders_sent = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"case of {self.dispute}"


class EvidencePacket(models.Model):
    """One assembly of evidence for a dispute: the merged PDF and the gateway's text fields
    as suggested, what was left out and why. The agent's final words travel in the action
    request; a packet is never edited (assemble again instead)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="packets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    file_field = models.CharField(max_length=60, help_text="The gateway field the PDF fills.")
    fields = models.JSONField(default=dict, help_text="Suggested text evidence, by field.")
    cover_field = models.CharField(max_length=60)
    sections = models.JSONField(default=list, help_text="Titles of what the PDF holds.")
    notes = models.JSONField(default=list, help_text="What was left out, and why.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"packet {self.pk} of {self.dispute}"
