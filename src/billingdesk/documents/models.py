"""Issuers, numbering series, tax rates and the issued documents themselves.

An issued ``Document`` is immutable: its number, parties, lines, totals and PDF never change
after the insert (``save`` refuses); only delivery facts (Message-ID, sent time) are recorded
later. Corrections go through a credit note that refers to the original.
"""

from __future__ import annotations

import string
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models

from billingdesk.billing.models import Charge, Customer, Person, Refund
from billingdesk.gateways.models import GatewayAccount


class LegalEntity(models.Model):
    """The company that issues documents: what the law wants printed about the seller."""

    name = models.CharField(max_length=300, help_text="Registered (legal) name.")
    legal_form = models.CharField(max_length=120, blank=True, help_text="e.g. SAS, GmbH, Ltd")
    share_capital = models.CharField(max_length=120, blank=True, help_text="e.g. 10 000 €")
    address_line1 = models.CharField(max_length=300)
    address_line2 = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=120)
    region = models.CharField(
        max_length=10, blank=True, help_text="CA province or IN state code (e.g. ON, KA)."
    )
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    vat_number = models.CharField(
        max_length=40, blank=True, help_text="VAT / GST / ABN number quoted on invoices."
    )
    tax_registered = models.BooleanField(default=True)
    # Company ids by scheme, printed as "SIREN 123…", e.g. {"SIREN": "…", "RCS": "Paris B …"}.
    company_ids = models.JSONField(default=dict, blank=True)
    # France: the late-payment penalty rate printed on B2B invoices (C. com. L441-10).
    late_payment_terms = models.CharField(
        max_length=300, blank=True, default="", help_text="Late-payment penalty wording (FR)."
    )
    email = models.EmailField(blank=True)
    # India, rule 46(q) CGST Rules: the supplier's signature on tax invoices (8-bit PNG).
    signature_png = models.BinaryField(blank=True, default=b"", editable=True)

    class Meta:
        verbose_name_plural = "legal entities"

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    """How documents look and sound: logo, colours, footer, language, and who sends them."""

    class B2CKind(models.TextChoices):
        INVOICE = "invoice", "invoice"
        RECEIPT = "receipt", "receipt"

    name = models.CharField(max_length=200, unique=True)
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="brands")
    accounts = models.ManyToManyField(GatewayAccount, blank=True, related_name="+")
    is_default = models.BooleanField(default=False, help_text="Used for accounts of no brand.")
    logo_png = models.BinaryField(blank=True, default=b"", editable=True)
    primary_color = models.CharField(max_length=7, default="#1F4E79")
    accent_color = models.CharField(max_length=7, default="#E8EEF4")
    footer = models.TextField(blank=True)
    default_language = models.CharField(max_length=5, default="en")
    from_email = models.EmailField(blank=True)
    reply_to = models.EmailField(
        blank=True, help_text="Where customer replies go (the helpdesk's inbound address)."
    )
    b2c_document = models.CharField(
        max_length=10,
        choices=B2CKind.choices,
        default=B2CKind.INVOICE,
        help_text="What a customer without a tax id gets after paying.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for name in ("primary_color", "accent_color"):
            value = getattr(self, name)
            if (
                len(value) != 7
                or value[0] != "#"
                or not all(c in "0123456789abcdefABCDEF" for c in value[1:])
            ):
                raise ValidationError({name: "use a #RRGGBB colour"})


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "invoice"
    RECEIPT = "receipt", "receipt"
    CREDIT_NOTE = "credit_note", "credit note"


class DocumentSeries(models.Model):
    """A numbering series of one legal entity for one kind of document.

    ``number_format`` is a ``str.format`` pattern over ``prefix``, ``year`` and ``seq``.
    """

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="series")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    prefix = models.CharField(max_length=10)
    number_format = models.CharField(max_length=60, default="{prefix}{year}-{seq:06d}")
    reset_yearly = models.BooleanField(
        default=True, help_text="Restart at 1 each year (India: unique per financial year)."
    )

    class Meta:
        verbose_name_plural = "document series"
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "kind"], name="series_entity_kind"),
            models.UniqueConstraint(fields=["legal_entity", "prefix"], name="series_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.kind})"

    def clean(self) -> None:
        """Refuse a pattern or setting that would make a number repeat, given the history."""
        try:
            self.number_format.format(prefix=self.prefix, year=2026, seq=1)
            fields = {name for _, name, _, _ in string.Formatter().parse(self.number_format)}
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            raise ValidationError({"number_format": f"invalid pattern: {exc}"}) from exc
        if "seq" not in fields:
            raise ValidationError({"number_format": "the pattern needs {seq}"})
        if self.reset_yearly and "year" not in fields:
            raise ValidationError(
                {
                    "number_format": "a series that restarts each year needs {year} in its "
                    "pattern, or two years would give the same numbers"
                }
            )
        if self.pk is None:
            return
        stored = DocumentSeries.objects.filter(pk=self.pk).first()
        used = stored is not None and (
            self.documents.exists() or self.counters.filter(value__gt=0).exists()
        )
        if not used or stored is None:
            return
        if stored.reset_yearly != self.reset_yearly:
            raise ValidationError(
                {
                    "reset_yearly": "this series has issued numbers: changing whether it "
                    "resets each year would restart or mix its counters and repeat numbers"
                }
            )
        for counter in self.counters.all():
            year = counter.period or 2000
            following = self.number_format.format(
                prefix=self.prefix, year=year, seq=counter.value + 1
            )
            if self.documents.filter(number=following).exists():
                raise ValidationError(
                    {"number_format": f"the next number, {following}, is already issued"}
                )


class SeriesCounter(models.Model):
    """The last number used in a series (per year when it resets), locked to take the next."""

    series = models.ForeignKey(DocumentSeries, on_delete=models.PROTECT, related_name="counters")
    period = models.PositiveIntegerField(help_text="Year, or 0 for a series that never resets.")
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "period"], name="counter_series_period")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.period}: {self.value}"


class TaxRate(models.Model):
    """A dated tax rate (percent), seeded from ``data/rates.json`` and editable in the admin."""

    country = models.CharField(max_length=2)
    region = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=10, help_text="VAT, GST, HST, IGST, CGST, SGST")
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["country", "region", "name", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "name", "valid_from"], name="taxrate_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country}{self.region and '-' + self.region} {self.name} {self.percent}%"


class BillingProfile(models.Model):
    """What billingdesk knows of a person for documents beyond the mirror: postal address,
    company name, tax id entered on the billing page, language, and the receipt opt-out."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="billing_profile")
    company_name = models.CharField(max_length=300, blank=True)
    address_line1 = models.CharField(max_length=300, blank=True)
    address_line2 = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    siren = models.CharField(
        max_length=9,
        blank=True,
        help_text="French company: SIREN, the buyer's legal id and e-invoicing address (BT-47/49).",
    )
    language = models.CharField(max_length=5, blank=True)
    receipts_opt_out = models.BooleanField(
        default=False, help_text="Do not email documents automatically (agents may still send)."
    )

    def __str__(self) -> str:
        return f"billing profile of {self.person}"

    def clean(self) -> None:
        if self.siren:
            from stdnum.fr import siren

            if not siren.is_valid(self.siren):
                raise ValidationError({"siren": "not a valid SIREN (9 digits, Luhn check)"})
            self.siren = siren.compact(self.siren)


class Document(models.Model):
    """An issued invoice, receipt or credit note. Immutable once saved."""

    # Fields that may be written after issue: delivery facts only.
    MUTABLE_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"message_id", "emailed_at", "email_to", "email_error"}
    )

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    series = models.ForeignKey(DocumentSeries, on_delete=models.PROTECT, related_name="documents")
    number = models.CharField(max_length=40)
    issued_at = models.DateTimeField()
    supply_date = models.DateField()
    # What made this document, so that issuing is idempotent: "charge:12", "refund:7",
    # "reissue:34" (replacement of document 34), "reissue-credit:34".
    source_key = models.CharField(max_length=80, unique=True)
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="documents")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    original = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="Credit note: the document it corrects; replacement: the one it replaces.",
    )
    seller = models.JSONField(help_text="Snapshot of the legal entity at issue.")
    buyer = models.JSONField(help_text="Snapshot of the buyer at issue.")
    lines = models.JSONField()
    tax_lines = models.JSONField()
    treatment = models.CharField(max_length=20)
    tax_category = models.CharField(max_length=2)
    tax_country = models.CharField(max_length=2)
    prices_include_tax = models.BooleanField()
    currency = models.CharField(max_length=3)
    net = models.BigIntegerField()
    tax = models.BigIntegerField()
    gross = models.BigIntegerField()
    language = models.CharField(max_length=5)
    reason = models.CharField(max_length=300, blank=True)
    pdf = models.BinaryField()
    has_facturx = models.BooleanField(default=False)
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    email_to = models.CharField(max_length=320, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)
    # Art. 230 Directive 2006/112/EC: an EU seller's VAT in its national currency when the
    # document is in another one: {"currency", "tax", "rate", "rate_date", "source", "from"}.
    vat_accounting = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="document_number_once")
        ]
        indexes = [
            models.Index(fields=["person", "issued_at"], name="document_person_idx"),
            # The tax summary of a period (reports.selectors.tax).
            models.Index(fields=["issued_at"], name="document_issued_idx"),
            # The console's documents list: newest first, paged on (issued_at, id).
            models.Index(fields=["-issued_at", "-id"], name="document_listed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS:
                raise ValidationError(
                    "an issued document cannot be changed; issue a credit note instead"
                )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError("an issued document cannot be deleted; issue a credit note instead")

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.number)
        return f"{self.kind}-{safe}.pdf"


class IssueProblem(models.Model):
    """A document that could not be issued, and why: shown to finance in the admin until an
    attempt succeeds, so that no invoice or credit note is ever dropped silently."""

    source_key = models.CharField(
        max_length=80, unique=True, help_text="charge:ID, refund:ID or tax-id:CUSTOMER_ID"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        indexes = [models.Index(fields=["resolved_at"], name="issueproblem_open_idx")]

    def __str__(self) -> str:
        return f"{self.source_key}: {self.reason}"


class ExchangeRate(models.Model):
    """A reference exchange rate: on ``day``, 1 EUR = ``per_eur`` units of ``currency``.

    Loaded from the ECB's euro foreign exchange reference rates file with
    ``billingdesk documents_load_rates FILE``; used to state the VAT of an EU seller's document
    in another currency in the seller's national currency (Art. 230/91(2) Directive
    2006/112/EC)."""

    currency = models.CharField(max_length=3)
    day = models.DateField()
    per_eur = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=40, default="ECB")

    class Meta:
        ordering = ["currency", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "day"], name="exchangerate_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} 1 EUR = {self.per_eur} {self.currency} ({self.source})"


class DocumentEmail(models.Model):
    """Each time a document was emailed: its Message-ID and Reply-To, so replies thread back.

    ``Document.message_id`` holds only the latest send; a customer may answer any of them.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="emails")
    message_id = models.CharField(max_length=300, unique=True)
    email_to = models.CharField(max_length=320)
    reply_to = models.CharField(max_length=320, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return self.message_id
