"""Per-person state of the customer billing links.

A link carries the person's id and the ``version`` current when it was made. Revoking bumps
the version (every link made before stops working, and so does every session opened from
one) and records when; making a new link afterwards clears ``revoked_at`` but old links stay
dead because their version is old. Global revocation is a rotation of ``SECRET_KEY``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from billingdesk.billing.models import Person
from billingdesk.core.crypto import EncryptedTextField


class PortalAccess(models.Model):
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="portal_access")
    version = models.PositiveIntegerField(default=1)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"billing link of {self.person} (v{self.version})"


class RateHit(models.Model):
    """One counted attempt against a rate limit (the link-by-email form, questions).

    ``key`` is a SHA-256 of what is limited ("email:…", "ip:…", "person:…"), so the table holds
    no addresses. Old rows are deleted as new ones are counted.
    """

    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="portal_ratehit_key_idx")]

    def __str__(self) -> str:
        return f"{self.key[:12]}… at {self.at:%Y-%m-%d %H:%M}"


class Question(models.Model):
    """A billing question a customer asked on the billing pages, stored before the helpdesk
    is called so nothing is lost while it is down; a task turns it into a ticket."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting to reach the helpdesk"
        SENT = "sent", "ticket created"
        NO_HELPDESK = "no_helpdesk", "no helpdesk with a ticket API is connected"
        FAILED = "failed", "the helpdesk refused it"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="portal_questions")
    email = models.CharField(max_length=320)
    subject = models.CharField(max_length=250)
    message = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    # What it is about (optional): one of the person's documents or charges.
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charge = models.ForeignKey(
        "billing.Charge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    ticket_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"question #{self.pk} of {self.person_id} [{self.status}]"


class AccountPolicy(models.Model):
    """What the merchant lets customers do themselves on one gateway account's records.

    Off by default: without a row (or with the box unticked) a customer cannot cancel a
    subscription from the billing pages, only ask the support team.
    """

    account = models.OneToOneField(
        "gateways.GatewayAccount", on_delete=models.CASCADE, related_name="portal_policy"
    )
    customers_may_cancel = models.BooleanField(
        default=False,
        help_text="Customers may cancel their subscriptions of this account on the billing "
        "pages (at the end of the period where the gateway can).",
    )
    customers_may_pause = models.BooleanField(
        default=False,
        help_text="Customers may pause their subscriptions of this account on the billing pages "
        "(no renewal is charged while paused) and resume them, where the gateway can.",
    )

    class Meta:
        verbose_name_plural = "account policies"

    def __str__(self) -> str:
        return f"customer pages policy of {self.account_id}"


class BrandPortal(models.Model):
    """How one brand's customer pages present themselves and where they may be embedded.

    The logo, colours and legal footer are the brand's own (``documents.Brand``, the same as on
    its invoices); this adds the support contact shown on every page and the origins of the
    merchant's sites allowed to frame the pages (``frame-ancestors``; none: not frameable).
    """

    brand = models.OneToOneField("documents.Brand", on_delete=models.CASCADE, related_name="portal")
    support_email = models.EmailField(blank=True, help_text="Shown to customers on every page.")
    support_url = models.URLField(blank=True, help_text="The merchant's help page, if any.")
    frame_origins = models.TextField(
        blank=True,
        help_text="Origins allowed to embed the customer pages in a frame, one per line "
        "(https://shop.example.com). Empty: the pages cannot be framed.",
    )
    embed_secret = EncryptedTextField(
        blank=True,
        help_text="Shared with the merchant's backend, which signs embedding URLs with it "
        "(HMAC-SHA256; see docs/portal.md). Empty: no embedding URLs.",
    )

    def __str__(self) -> str:
        return f"customer pages of {self.brand_id}"

    def clean(self) -> None:
        from billingdesk.portal.branding import origins_parse

        try:
            self.frame_origins = "\n".join(origins_parse(self.frame_origins))
        except ValidationError as exc:
            raise ValidationError({"frame_origins": exc.messages}) from None
