"""The billing mirror: every gateway account's objects, copied locally so reads never wait.

Every mirrored row keeps its gateway id, the gateway's raw payload and ``gateway_updated_at``
(the version it reflects: an older version never overwrites a newer one). References between
objects are kept twice: the gateway id (``customer_ref``…), always set, and the foreign key,
filled as soon as the referenced row exists, so objects may arrive in any order.

Persons sit above the mirror: one person per human, across gateways, each customer linked to
one person with how it was matched.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce

from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    Interval,
    InvoiceStatus,
    RefundStatus,
    SubscriptionStatus,
)
from billingdesk.gateways.models import GatewayAccount


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class Person(models.Model):
    """One human (or company) across every gateway account."""

    name = models.CharField(max_length=300, blank=True)
    primary_email = models.CharField(max_length=320, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.primary_email or f"person {self.pk}"


class PersonEmail(models.Model):
    """An extra address of a person that no gateway customer carries (added by agents or
    learned from a helpdesk requester's secondary emails)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=320)
    email_normalized = models.CharField(max_length=320, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "email_normalized"], name="person_email_once")
        ]

    def __str__(self) -> str:
        return self.email


class MatchMethod(models.TextChoices):
    """How a record was tied to a person, strongest first; ``MATCH_CONFIDENCE`` scores them."""

    MANUAL = "manual", "linked by an agent"
    GATEWAY_ID = "gateway_id", "gateway customer id"
    TRANSACTION_ID = "transaction_id", "charge or transaction id"
    ORDER_ID = "order_id", "order id"
    EMAIL = "email", "email"
    SECONDARY_EMAIL = "secondary_email", "secondary email"
    PHONE = "phone", "phone"
    NAME = "name", "name"
    CARD_LAST4 = "card_last4", "card last 4"
    NEW = "new", "first record of this person"


MATCH_CONFIDENCE: dict[str, int] = {
    MatchMethod.MANUAL: 100,
    MatchMethod.GATEWAY_ID: 100,
    MatchMethod.TRANSACTION_ID: 100,
    MatchMethod.ORDER_ID: 95,
    MatchMethod.EMAIL: 95,
    MatchMethod.SECONDARY_EMAIL: 90,
    MatchMethod.PHONE: 75,
    MatchMethod.NAME: 40,
    MatchMethod.CARD_LAST4: 30,
    MatchMethod.NEW: 100,
}


class Mirrored(models.Model):
    """Columns every mirrored object has."""

    account = models.ForeignKey(GatewayAccount, on_delete=models.CASCADE, related_name="+")
    gateway_id = models.CharField(max_length=255)
    gateway_created_at = models.DateTimeField(null=True, blank=True)
    gateway_updated_at = models.DateTimeField()
    raw = models.JSONField(default=dict)
    deleted = models.BooleanField(default=False)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.gateway_id


# When a mirrored record happened, for the console's lists: the gateway's creation time, or
# when the gateway gave none, its last change. Lists order and page by (LISTED_AT, id).
LISTED_AT = Coalesce("gateway_created_at", "gateway_updated_at")


def _listed_index(name: str) -> models.Index:
    return models.Index(LISTED_AT.desc(), F("id").desc(), name=f"{name}_listed_idx")


def _mirror_meta(name: str, *extra_indexes: models.Index) -> type:
    """Meta for a mirrored model: one row per (account, gateway id), newest first."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "gateway_id"], name=f"{name}_gateway_id")
        ]
        indexes = list(extra_indexes)
        ordering = ["-gateway_created_at", "-id"]

    return Meta


class Customer(Mirrored):
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    match_method = models.CharField(max_length=20, choices=MatchMethod.choices, blank=True)
    match_confidence = models.PositiveSmallIntegerField(default=0)
    # An agent linked or unlinked this record: automatic matching leaves it alone.
    match_locked = models.BooleanField(default=False)
    email = models.CharField(max_length=320, blank=True)
    email_normalized = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    phone_normalized = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=2, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    description = models.TextField(blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "customer",
        models.Index(fields=["email_normalized"], name="customer_email_idx"),
        models.Index(fields=["phone_normalized"], name="customer_phone_idx"),
        models.Index(fields=["name"], name="customer_name_idx"),
        models.Index(fields=["person"], name="customer_person_idx"),
    )

    def __str__(self) -> str:
        return self.email or self.name or self.gateway_id


class PaymentMethod(Mirrored):
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment_methods"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    method_type = models.CharField(max_length=40, default="card")
    brand = models.CharField(max_length=40, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    fingerprint = models.CharField(max_length=120, blank=True)
    is_default = models.BooleanField(default=False)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "paymentmethod",
        models.Index(fields=["last4"], name="pm_last4_idx"),
        models.Index(fields=["account", "customer_ref"], name="pm_customer_ref_idx"),
    )


class Invoice(Mirrored):
    """An invoice as the gateway issued it (billingdesk's own documents live elsewhere)."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    subscription = models.ForeignKey(
        "Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    subscription_ref = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=_choices(InvoiceStatus))
    number = models.CharField(max_length=120, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    due_date = models.DateTimeField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    hosted_url = models.URLField(max_length=1000, blank=True)
    pdf_url = models.URLField(max_length=1000, blank=True)
    # The payment the invoice names (a charge id or a payment attempt's id), for gateways
    # that link invoice -> payment rather than charge -> invoice; the mirror fills the
    # charge's invoice from it.
    charge_ref = models.CharField(max_length=255, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "invoice",
        models.Index(fields=["customer", "gateway_created_at"], name="invoice_customer_idx"),
        models.Index(fields=["account", "customer_ref"], name="invoice_customer_ref_idx"),
        models.Index(fields=["account", "subscription_ref"], name="invoice_sub_ref_idx"),
        models.Index(fields=["number"], name="invoice_number_idx"),
        models.Index(fields=["account", "charge_ref"], name="invoice_charge_ref_idx"),
    )


class Charge(Mirrored):
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges"
    )
    payment_method_ref = models.CharField(max_length=255, blank=True)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges"
    )
    invoice_ref = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_captured = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=_choices(ChargeStatus))
    description = models.CharField(max_length=1000, blank=True)
    product = models.CharField(max_length=300, blank=True)
    order_id = models.CharField(max_length=255, blank=True)
    alt_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=40, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    failure_code = models.CharField(max_length=120, blank=True)
    failure_message = models.CharField(max_length=1000, blank=True)
    receipt_email = models.CharField(max_length=320, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "charge",
        models.Index(fields=["customer", "gateway_created_at"], name="charge_customer_idx"),
        models.Index(fields=["account", "customer_ref"], name="charge_customer_ref_idx"),
        models.Index(fields=["account", "invoice_ref"], name="charge_invoice_ref_idx"),
        models.Index(fields=["account", "payment_method_ref"], name="charge_pm_ref_idx"),
        models.Index(fields=["order_id"], name="charge_order_idx"),
        models.Index(fields=["alt_id"], name="charge_alt_idx"),
        models.Index(fields=["gateway_id"], name="charge_gateway_id_idx"),
        models.Index(fields=["card_last4"], name="charge_last4_idx"),
        # The revenue rollup recomputes one account's days (reports.rollups).
        models.Index(fields=["account", "gateway_created_at"], name="charge_account_created_idx"),
        _listed_index("charge"),
        models.Index(
            F("status"), LISTED_AT.desc(), F("id").desc(), name="charge_status_listed_idx"
        ),
    )

    @property
    def refundable(self) -> int:
        return max(self.amount_captured - self.amount_refunded, 0)


class Refund(Mirrored):
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.SET_NULL, related_name="refunds"
    )
    charge_ref = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=_choices(RefundStatus))
    reason = models.CharField(max_length=300, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "refund",
        models.Index(fields=["account", "charge_ref"], name="refund_charge_ref_idx"),
        models.Index(fields=["account", "gateway_created_at"], name="refund_account_created_idx"),
        _listed_index("refund"),
    )


class Subscription(Mirrored):
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=_choices(SubscriptionStatus))
    product = models.CharField(max_length=300, blank=True)
    plan = models.CharField(max_length=300, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    interval = models.CharField(max_length=10, choices=_choices(Interval), default="month")
    interval_count = models.PositiveIntegerField(default=1)
    quantity = models.PositiveIntegerField(default=1)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    trial_start = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "subscription",
        models.Index(fields=["account", "customer_ref"], name="sub_customer_ref_idx"),
        models.Index(fields=["customer"], name="sub_customer_idx"),
        models.Index(fields=["status"], name="sub_status_idx"),
        _listed_index("sub"),
    )


class Coupon(Mirrored):
    name = models.CharField(max_length=300, blank=True)
    percent_off_bp = models.PositiveIntegerField(null=True, blank=True)
    amount_off = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    duration = models.CharField(max_length=20, default="once")
    duration_in_months = models.PositiveIntegerField(null=True, blank=True)
    valid = models.BooleanField(default=True)

    Meta = _mirror_meta("coupon")  # type: ignore[misc,assignment]


class Discount(Mirrored):
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="discounts"
    )
    coupon_ref = models.CharField(max_length=255)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="discounts"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="discounts"
    )
    subscription_ref = models.CharField(max_length=255, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "discount",
        models.Index(fields=["account", "coupon_ref"], name="discount_coupon_ref_idx"),
        models.Index(fields=["account", "customer_ref"], name="discount_customer_ref_idx"),
        models.Index(fields=["account", "subscription_ref"], name="discount_sub_ref_idx"),
    )


class TaxId(Mirrored):
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="tax_ids"
    )
    customer_ref = models.CharField(max_length=255, blank=True)
    tax_type = models.CharField(max_length=40)
    value = models.CharField(max_length=120)
    country = models.CharField(max_length=2, blank=True)
    verification = models.CharField(max_length=20, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "taxid", models.Index(fields=["account", "customer_ref"], name="taxid_customer_ref_idx")
    )


class Dispute(Mirrored):
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.SET_NULL, related_name="disputes"
    )
    charge_ref = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=_choices(DisputeStatus))
    reason = models.CharField(max_length=120, blank=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True)

    Meta = _mirror_meta(  # type: ignore[misc,assignment]
        "dispute",
        models.Index(fields=["account", "charge_ref"], name="dispute_charge_ref_idx"),
        models.Index(fields=["account", "gateway_created_at"], name="dispute_account_created_idx"),
        _listed_index("dispute"),
    )


class CustomerToken(models.Model):
    """One searchable word of a customer: a name word or e-mail local-part word, lower-cased
    and accent-stripped, or its e-mail domain as ``@domain``. Filled by
    ``billing.name_tokens``; searched by prefix through the token index (never a scan)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)

    class Meta:
        indexes = [
            # The pattern opclass lets PostgreSQL serve ``LIKE 'w%'`` whatever the collation;
            # other databases ignore it and search a plain range.
            # (token, customer): a word's customers are read from the index alone.
            models.Index(
                fields=["token", "customer"],
                name="customer_token_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["customer"], name="customer_token_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.token
