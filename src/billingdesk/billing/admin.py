"""Admin pages of the billing mirror and persons.

Mirrored rows are copies of what the gateways hold: they are viewable here and never edited
(a change would be overwritten by the next sync, and would not reach the gateway). Lists are
built for tables of millions of rows: no full count, related rows joined in the same query,
and search by exact value on indexed columns instead of a scan with ``LIKE`` (search fields are
chosen among the indexed ones: the ``(account, …)`` indexes serve gateway ids and references).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import F, QuerySet, Subquery
from django.http import HttpRequest

from billingdesk.billing.identity import normalize_email, normalize_last4, normalize_phone
from billingdesk.billing.models import (
    LISTED_AT,
    Charge,
    Coupon,
    Customer,
    Discount,
    Dispute,
    Invoice,
    PaymentMethod,
    Person,
    PersonEmail,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.billing.services import person_add_email
from billingdesk.core.admin import CappedCountPaginator, ReadOnlyMixin
from billingdesk.core.admin import ExactSearchAdmin as _ExactSearchAdmin
from billingdesk.core.money import Money, moment_format
from billingdesk.gateways.models import GatewayAccount

admin.site.site_header = "billingdesk administration"
admin.site.site_title = "billingdesk admin"
admin.site.index_title = "Configuration and mirrored data"

# How a search term is turned into the value an indexed column holds.
_SEARCH_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "email_normalized": normalize_email,
    "phone_normalized": normalize_phone,
    "last4": normalize_last4,
    "card_last4": normalize_last4,
}


class ExactSearchAdmin(_ExactSearchAdmin):
    search_normalizers = _SEARCH_NORMALIZERS


class MirroredAdmin(ReadOnlyMixin, ExactSearchAdmin):
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    # Newest rows first through the primary key index; the models' own ordering (by the
    # gateway's creation date) would sort the whole table for each page.
    ordering = ("-id",)
    list_select_related = ["account"]
    # Filters beside account and "deleted". Only fields with choices or booleans: a filter
    # on a free-text column runs SELECT DISTINCT over the whole table on every page view.
    mirror_filters: ClassVar[tuple[str, ...]] = ()
    exclude = ("raw",)
    readonly_fields = ("raw_payload",)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # The account filter lists the (few) accounts, not the distinct ones in this table.
        return ("account", *self.mirror_filters, "deleted")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if search_term.strip():
            # Mirror indexes start with the account (unique gateway id per account, refs per
            # account); naming every account lets the database probe them instead of scanning.
            accounts = list(GatewayAccount.objects.values_list("pk", flat=True))
            queryset = queryset.filter(account_id__in=accounts)
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="gateway payload")
    def raw_payload(self, obj: Any) -> str:
        return json.dumps(obj.raw, indent=2, sort_keys=True, default=str)


def _money(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    try:
        return str(Money(amount, currency))
    except (TypeError, ValueError):  # a gateway sent no or an odd currency: show the raw number
        return f"{amount} {currency}".strip()


class CustomerInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Customer
    fields = ("gateway_id", "account", "email", "name", "match_method", "match_confidence")
    readonly_fields = ("gateway_id", "account", "email", "name", "match_method", "match_confidence")
    show_change_link = True
    extra = 0
    # A catch-all address (test@example.com) can gather thousands of records on one person.
    limit = 50
    verbose_name_plural = f"customers (the {limit} most recent)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        records = super().get_queryset(request).select_related("account")
        # A formset cannot take a sliced queryset; a subquery of the newest ids keeps it short.
        newest = records.order_by("-id").values("id")[: self.limit]
        return records.filter(id__in=Subquery(newest))


class PersonEmailInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = PersonEmail
    fields = ("email", "created_at")
    readonly_fields = ("email", "created_at")
    extra = 0


@admin.register(Person)
class PersonAdmin(ExactSearchAdmin):
    """Persons are made by matching; an administrator may correct a name or primary email."""

    list_display = ["__str__", "primary_email", "created_at"]
    search_fields = ["customers__email_normalized", "emails__email_normalized"]
    fields = ["name", "primary_email", "created_at"]
    readonly_fields = ["created_at"]
    inlines = [CustomerInline, PersonEmailInline]
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, _ = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            found = found | queryset.filter(pk=int(term))
        # Joins through customers and emails can repeat a person.
        return found, True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        return False


@admin.register(PersonEmail)
class PersonEmailAdmin(ExactSearchAdmin):
    """Secondary addresses. Adding one goes through ``person_add_email``, so customers with
    that address join the person as they would from the panel."""

    list_display = ["email", "person", "created_at"]
    list_select_related = ["person"]
    search_fields = ["email_normalized"]
    autocomplete_fields = ["person"]
    fields = ["person", "email"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: PersonEmail | None = None) -> bool:
        # Delete and add again instead: an edit would bypass re-matching.
        return False

    def save_model(self, request: HttpRequest, obj: PersonEmail, form: Any, change: bool) -> None:
        saved = person_add_email(person=obj.person, email=obj.email)
        obj.pk = saved.pk
        obj.email_normalized = saved.email_normalized
        obj.created_at = saved.created_at


@admin.register(Customer)
class CustomerAdmin(MirroredAdmin):
    list_display = ["gateway_id", "email", "name", "account", "person", "match_method", "country"]
    list_select_related = ["account", "person"]
    mirror_filters = ("match_method",)
    search_fields = ["gateway_id", "email_normalized", "phone_normalized", "name"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(MirroredAdmin):
    list_display = ["gateway_id", "brand", "last4", "exp_month", "exp_year", "customer", "account"]
    list_select_related = ["account", "customer"]
    mirror_filters = ("is_default",)
    search_fields = ["gateway_id", "last4", "customer_ref"]


class DatedListMixin:
    """Newest first by when it happened (the gateway's date), through the model's
    ``(LISTED_AT, id)`` index; the date shown compactly so the columns fit at 1280 px."""

    ordering: Any = (LISTED_AT.desc(), F("id").desc())

    class Media:
        css = {"all": ("core/admin-lists.css",)}

    @admin.display(description="date", ordering=LISTED_AT.desc())
    def when(self, obj: Any) -> str:
        return moment_format(obj.gateway_created_at or obj.gateway_updated_at)


@admin.register(Charge)
class ChargeAdmin(DatedListMixin, MirroredAdmin):
    list_display = [
        "when",
        "amount_display",
        "status",
        "customer",
        "card_last4",
        "gateway_id",
        "order_id",
        "account",
    ]
    list_display_links = ["when"]
    list_select_related = ["account", "customer"]
    mirror_filters = ("status",)
    search_fields = ["gateway_id", "alt_id", "order_id", "card_last4", "customer_ref"]

    @admin.display(description="amount")
    def amount_display(self, obj: Charge) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(Refund)
class RefundAdmin(DatedListMixin, MirroredAdmin):
    list_display = ["when", "amount_display", "status", "charge", "gateway_id"]
    list_display_links = ["when"]
    list_select_related = ["account", "charge"]
    mirror_filters = ("status",)
    search_fields = ["gateway_id", "charge_ref"]

    @admin.display(description="amount")
    def amount_display(self, obj: Refund) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(Subscription)
class SubscriptionAdmin(MirroredAdmin):
    list_display = [
        "gateway_id",
        "customer",
        "status",
        "plan",
        "amount_display",
        "interval",
        "current_period_end",
        "account",
    ]
    list_select_related = ["account", "customer"]
    mirror_filters = ("status", "interval", "cancel_at_period_end")
    search_fields = ["gateway_id", "customer_ref"]

    @admin.display(description="amount")
    def amount_display(self, obj: Subscription) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(Invoice)
class InvoiceAdmin(MirroredAdmin):
    list_display = [
        "gateway_id",
        "number",
        "customer",
        "status",
        "total_display",
        "due_date",
        "account",
    ]
    list_select_related = ["account", "customer"]
    mirror_filters = ("status",)
    search_fields = ["gateway_id", "number", "customer_ref", "subscription_ref"]

    @admin.display(description="total")
    def total_display(self, obj: Invoice) -> str:
        return _money(obj.total, obj.currency)


@admin.register(Coupon)
class CouponAdmin(MirroredAdmin):
    list_display = ["gateway_id", "name", "percent_off_bp", "amount_off", "duration", "valid"]
    mirror_filters = ("duration", "valid")
    search_fields = ["gateway_id", "name"]


@admin.register(Discount)
class DiscountAdmin(MirroredAdmin):
    list_display = ["gateway_id", "coupon", "customer", "subscription", "start", "end"]
    list_select_related = ["account", "coupon", "customer", "subscription"]
    search_fields = ["gateway_id", "coupon_ref", "customer_ref", "subscription_ref"]


@admin.register(TaxId)
class TaxIdAdmin(MirroredAdmin):
    list_display = ["gateway_id", "tax_type", "value", "country", "verification", "customer"]
    list_select_related = ["account", "customer"]
    search_fields = ["gateway_id", "customer_ref"]


@admin.register(Dispute)
class DisputeAdmin(MirroredAdmin):
    list_display = [
        "gateway_id",
        "charge",
        "amount_display",
        "status",
        "reason",
        "evidence_due_by",
    ]
    list_select_related = ["account", "charge"]
    mirror_filters = ("status",)
    search_fields = ["gateway_id", "charge_ref"]

    @admin.display(description="amount")
    def amount_display(self, obj: Dispute) -> str:
        return _money(obj.amount, obj.currency)
