"""Admin for issuers, brands, series, tax rates and billing profiles; documents read-only.

Issued documents cannot be added, edited or deleted here (corrections are credit notes); the
admin lists them with a download link and a resend action.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.models import (
    BillingProfile,
    Brand,
    Document,
    DocumentSeries,
    IssueProblem,
    LegalEntity,
    SeriesCounter,
    TaxRate,
)
from billingdesk.documents.render.pdfwriter import LogoError, png_parse
from billingdesk.documents.tasks import document_send_task
from billingdesk.documents.taxids import tax_id_check


def _png_upload(upload: Any) -> bytes | None:
    """An uploaded image's bytes once checked as a PNG the PDF/A writer embeds, or None."""
    if not upload:
        return None
    data = upload.read()
    try:
        png_parse(data)
    except LogoError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return bytes(data)


class LegalEntityForm(forms.ModelForm[LegalEntity]):
    signature_upload = forms.FileField(
        required=False,
        help_text="India: the authorised signatory's signature, 8-bit RGB or greyscale PNG "
        "without transparency, printed on tax invoices (rule 46(q)).",
    )

    class Meta:
        model = LegalEntity
        fields = [
            *("name", "legal_form", "share_capital", "address_line1", "address_line2"),
            *("postcode", "city", "region", "country", "vat_number", "tax_registered"),
            *("company_ids", "late_payment_terms", "email"),
        ]

    def clean_signature_upload(self) -> bytes | None:
        return _png_upload(self.cleaned_data.get("signature_upload"))

    def save(self, commit: bool = True) -> LegalEntity:
        entity = super().save(commit=False)
        signature = self.cleaned_data.get("signature_upload")
        if signature:
            entity.signature_png = signature
        if commit:
            entity.save()
        return entity

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number, country = data.get("vat_number"), data.get("country")
        if number and country:
            check = tax_id_check(country=country, value=number)
            if not check.valid:
                self.add_error("vat_number", f"{number}: {check.reason}")
            else:
                data["vat_number"] = check.value
        return data


class SeriesInline(admin.TabularInline[DocumentSeries, LegalEntity]):
    model = DocumentSeries
    extra = 0


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin[LegalEntity]):
    form = LegalEntityForm
    list_display = ["name", "country", "vat_number", "tax_registered"]
    inlines = [SeriesInline]


class BrandForm(forms.ModelForm[Brand]):
    logo_upload = forms.FileField(
        required=False, help_text="8-bit RGB or greyscale PNG, no transparency (PDF/A)."
    )

    class Meta:
        model = Brand
        fields = [
            *("name", "legal_entity", "accounts", "is_default", "primary_color", "accent_color"),
            *("footer", "default_language", "from_email", "reply_to", "b2c_document"),
        ]

    def clean_logo_upload(self) -> bytes | None:
        return _png_upload(self.cleaned_data.get("logo_upload"))

    def save(self, commit: bool = True) -> Brand:
        brand = super().save(commit=False)
        logo = self.cleaned_data.get("logo_upload")
        if logo:
            brand.logo_png = logo
        if commit:
            brand.save()
            self.save_m2m()
        return brand


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    form = BrandForm
    list_display = ["name", "legal_entity", "default_language", "is_default"]
    filter_horizontal = ["accounts"]


@admin.register(DocumentSeries)
class DocumentSeriesAdmin(admin.ModelAdmin[DocumentSeries]):
    list_display = ["prefix", "kind", "legal_entity", "number_format", "reset_yearly"]


@admin.register(SeriesCounter)
class SeriesCounterAdmin(admin.ModelAdmin[SeriesCounter]):
    """Read-only: counters move only when a document is issued."""

    list_display = ["series", "period", "value"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    list_display = ["country", "region", "name", "percent", "valid_from", "valid_to"]
    list_filter = ["country", "name"]


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin[BillingProfile]):
    list_display = ["person", "company_name", "country", "tax_id", "receipts_opt_out"]
    raw_id_fields = ["person"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    list_display = ["number", "kind", "issued_at", "buyer_name", "gross", "currency", "pdf_link"]
    list_filter = ["kind", "treatment", "currency"]
    search_fields = ["number", "buyer"]
    exclude = ["pdf"]
    actions = ["resend"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Document._meta.fields if f.name != "pdf"] + ["pdf_link"]

    @admin.display(description="buyer")
    def buyer_name(self, obj: Document) -> str:
        return str(obj.buyer.get("name", ""))

    @admin.display(description="PDF")
    def pdf_link(self, obj: Document) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("documents:pdf", args=[obj.pk]), obj.filename
        )

    @admin.action(description="Email the selected documents to their customers again")
    def resend(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            enqueue_on_commit(document_send_task, document.pk, automatic=False)
        messages.success(request, f"{queryset.count()} documents queued for sending.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Issued documents are immutable (database triggers): the admin shows them read-only,
        # with no Save button; a forged POST gets a 403, never a 500 from the trigger.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OpenProblemFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(IssueProblem)
class IssueProblemAdmin(admin.ModelAdmin[IssueProblem]):
    """Documents that could not be issued, with the reason; fix the cause, then retry."""

    list_display = ["source_key", "reason", "attempts", "last_seen", "resolved_at"]
    list_filter = [OpenProblemFilter]
    search_fields = ["=source_key"]
    raw_id_fields = ["charge", "refund", "customer"]
    actions = ["retry"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in IssueProblem._meta.fields]

    @admin.action(description="Try to issue the selected documents again")
    def retry(self, request: HttpRequest, queryset: QuerySet[IssueProblem]) -> None:
        from billingdesk.documents.services import issue_problem_retry

        for problem in queryset:
            issue_problem_retry(problem_id=problem.pk)
        messages.success(request, f"{queryset.count()} issues queued again.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
