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


# The actions that move money, which limits apply to (values of ``actions.ActionKind``).
class LimitKind(models.TextChoices):
    REFUND = "refund", "refund"
    CAPTURE = "capture", "capture"
    AUTHORIZE = "authorize", "authorise a payment"
    PAYMENT_REQUEST = "payment_request", "payment request"


class RefundLimit(models.Model):
    """What agents of one role may move alone, per kind of action and currency.

    ``max_amount`` bounds one action and the total of such actions on one record (a charge for
    refunds and captures, a customer for authorisations and payment requests) by anyone,
    without approval; ``daily_max``, when set, bounds what one agent moves in 24 hours. The
    same limits bound what an agent of this role may approve.

    Limits fail closed: with no row for a role, kind and currency, agents and finance need
    approval for every such action; admins act without limit (``accounts.selectors``).
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    kind = models.CharField(max_length=20, choices=LimitKind.choices, default=LimitKind.REFUND)
    currency = models.CharField(max_length=3)
    max_amount = models.BigIntegerField(help_text="In minor units (cents).")
    daily_max = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Most one agent may move in 24 hours, in minor units; empty = no daily cap.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["role", "kind", "currency"], name="one_limit_per_role_kind_currency"
            ),
            models.CheckConstraint(
                condition=models.Q(max_amount__gte=0), name="limit_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(daily_max__isnull=True) | models.Q(daily_max__gte=0),
                name="daily_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.kind}: {self.max_amount} {self.currency}"


class SSOIdentity(models.Model):
    """The identity provider's account behind a user: its issuer and subject (``sub``), the
    stable key an SSO sign-in finds the user by (an email can change or be reused)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_once")
        ]
        verbose_name_plural = "SSO identities"

    def __str__(self) -> str:
        return f"{self.subject} @ {self.issuer}"
