"""Agents' roles and the refund limits that apply to each role."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """What an agent may do, weakest first.

    read_only sees everything and acts on nothing; agent runs actions within its limits;
    finance also approves requests above agents' limits; admin also configures billingdesk.
    """

    READ_ONLY = "read_only", "read-only"
    AGENT = "agent", "agent"
    FINANCE = "finance", "finance"
    ADMIN = "admin", "admin"


ROLE_RANK = {Role.READ_ONLY: 0, Role.AGENT: 1, Role.FINANCE: 2, Role.ADMIN: 3}


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class RefundLimit(models.Model):
    """The most one refund by this role may return in this currency without approval.

    No row for a role and currency means no limit for it.
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    currency = models.CharField(max_length=3)
    max_amount = models.BigIntegerField(help_text="In minor units (cents).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["role", "currency"], name="one_limit_per_role_currency"
            ),
            models.CheckConstraint(
                condition=models.Q(max_amount__gte=0), name="limit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.max_amount} {self.currency}"
