"""The revenue rollup: one row per local day x gateway account x currency x product.

Kept by ``reports.rollups``: each mirror write of charges, refunds or disputes recomputes the
days it touched from the mirror (in the same transaction), so a duplicate or out-of-order
event gives the same rows as a full rebuild (``billingdesk reports_rebuild``). Amounts are
integer minor units of ``currency``; rows of different currencies are never added together.
"""

from __future__ import annotations

from django.db import models

from billingdesk.gateways.models import GatewayAccount


class RevenueDay(models.Model):
    # The day in the reporting time zone (settings.TIME_ZONE) the money moved.
    day = models.DateField()
    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    product = models.CharField(max_length=300, blank=True)
    gross = models.BigIntegerField(default=0)
    charges = models.PositiveIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refund_count = models.PositiveIntegerField(default=0)
    disputes_lost = models.BigIntegerField(default=0)
    dispute_lost_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "account", "currency", "product"], name="revenueday_once"
            )
        ]
        indexes = [models.Index(fields=["account", "day"], name="revenueday_account_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.account_id} {self.currency} {self.product or '-'}"

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.disputes_lost


class SubscriptionPrice(models.Model):
    """A subscription's monthly price from ``at`` on: a row each time the mirror writes a
    different price (amount x quantity over the billing period), so expansion and
    contraction MRR can be told apart from new and churned MRR. The price is kept exact, as
    the fraction ``mrr_num / mrr_den`` of minor units of ``currency``.

    History starts when billingdesk first sees the subscription: a backfilled subscription
    whose price changed before that has one row, at its creation, with its current price."""

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    subscription_ref = models.CharField(max_length=255)  # the gateway's subscription id
    at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    mrr_num = models.BigIntegerField()
    mrr_den = models.BigIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["account", "subscription_ref", "at"], name="subprice_ref_idx"),
            models.Index(fields=["at"], name="subprice_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_ref} {self.at:%Y-%m-%d} {self.currency}"


class TaxDay(models.Model):
    """The issued documents' tax lines of one local day, per legal entity, tax country,
    treatment, currency, tax name and rate: what the tax summary reads instead of the
    documents. Credit notes count negative. Issued documents never change (a database
    trigger refuses it), so each is added once, in the transaction that issues it."""

    day = models.DateField()
    legal_entity = models.ForeignKey(
        "documents.LegalEntity", on_delete=models.CASCADE, related_name="+"
    )
    tax_country = models.CharField(max_length=2)
    treatment = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    name = models.CharField(max_length=10)
    percent = models.CharField(max_length=12)
    taxable = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    documents = models.PositiveIntegerField(default=0)
    credit_notes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "legal_entity",
                    "tax_country",
                    "treatment",
                    "currency",
                    "name",
                    "percent",
                ],
                name="taxday_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tax_country} {self.name} {self.percent}"


class DocumentDay(models.Model):
    """The issued documents' own totals of one local day per legal entity and currency."""

    day = models.DateField()
    legal_entity = models.ForeignKey(
        "documents.LegalEntity", on_delete=models.CASCADE, related_name="+"
    )
    currency = models.CharField(max_length=3)
    net = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    gross = models.BigIntegerField(default=0)
    documents = models.PositiveIntegerField(default=0)
    credit_notes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "legal_entity", "currency"], name="documentday_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.legal_entity_id} {self.currency}"
