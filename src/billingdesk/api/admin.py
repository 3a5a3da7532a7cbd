"""Admin pages: API keys (the key shown once, on creation), webhook endpoints (the secret
shown once; rotate with overlap) and the delivery log (replay any delivery)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billingdesk.api.keys import apikey_create, apikey_revoke, networks_clean
from billingdesk.api.models import (
    ApiKey,
    Scope,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from billingdesk.api.webhooks.services import (
    delivery_replay,
    endpoint_create,
    endpoint_rotate_secret,
)
from billingdesk.core.admin import ReadOnlyMixin
from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.core.outbound import url_check


class ApiKeyForm(forms.ModelForm[ApiKey]):
    scope_choices = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role (with the actions scope)"),
        choices=[("agent", gettext_lazy("agent")), ("finance", gettext_lazy("finance"))],
        required=False,
        help_text=gettext_lazy("Finance may also approve or deny requests above agents' limits."),
    )

    class Meta:
        model = ApiKey
        fields = ["name", "expires_at", "allowed_ips", "rate_limit_per_minute"]

    def clean_allowed_ips(self) -> str:
        try:
            return "\n".join(networks_clean(self.cleaned_data.get("allowed_ips") or ""))
        except InvalidRequest as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ["name", "prefix", "scopes", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "scopes", "last_used_at", "revoked_at", "created_at"]
    actions = ["revoke"]

    def get_form(  # type: ignore[override]
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                "name", "scope_choices", "role", "expires_at", "allowed_ips",
                "rate_limit_per_minute",
            ]  # fmt: skip
        return [
            "name", "prefix", "scopes", "expires_at", "allowed_ips", "rate_limit_per_minute",
            "last_used_at", "revoked_at", "created_at",
        ]  # fmt: skip

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        try:
            key, text = apikey_create(
                name=data["name"], scopes=data["scope_choices"], expires_at=data["expires_at"],
                allowed_ips=data["allowed_ips"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
                created_by=request.user if isinstance(request.user, User) else None,
                role=data["role"] if "actions" in data["scope_choices"] else "",
            )  # fmt: skip
        except InvalidRequest as exc:
            messages.error(request, exc.message)
            return
        obj.pk = key.pk
        messages.warning(
            request, _("Copy this key now; it is never shown again: %(key)s") % {"key": text}
        )

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url: Any = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:api_apikey_changelist"))

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            apikey_revoke(prefix=key.prefix)
        messages.success(request, _("%(n)d key(s) revoked.") % {"n": queryset.count()})


class EndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "is_active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "")
        try:
            url_check(url)
        except InvalidRequest as exc:
            raise forms.ValidationError(exc.message) from None
        return url

    def clean_event_types(self) -> list[str]:
        value = self.cleaned_data.get("event_types") or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise forms.ValidationError(_('A list of event types, e.g. ["charge.*"].'))
        return value


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = EndpointForm
    list_display = ["url", "event_types", "is_active", "disabled_reason", "failing_since"]
    readonly_fields = ["disabled_reason", "failing_since", "previous_until", "created_at"]
    actions = ["rotate"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            made = endpoint_create(
                url=obj.url, event_types=obj.event_types, description=obj.description
            )
        except InvalidRequest as exc:
            messages.error(request, exc.message)
            return
        obj.pk = made.pk
        messages.warning(
            request, _("The signing secret (shown once): %(secret)s") % {"secret": made.secret}
        )

    @admin.action(description=gettext_lazy("Rotate the signing secret (old one kept 24 h)"))
    def rotate(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = endpoint_rotate_secret(endpoint=endpoint)
            messages.warning(
                request,
                _("New secret for %(url)s (shown once): %(secret)s")
                % {"url": endpoint.url, "secret": secret},
            )


class AttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "latency_ms", "error", "response_body", "request_headers"]
    readonly_fields = ["at", "status_code", "latency_ms", "error", "response_body"]
    readonly_fields += ["request_headers"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin[WebhookDelivery]):
    list_display = ["message", "endpoint", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status"]
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.action(description=gettext_lazy("Send again"))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued = 0
        for delivery in queryset:
            try:
                delivery_replay(delivery=delivery)
            except NotAllowed as exc:
                messages.error(request, f"{delivery}: {exc.message}")
                continue
            queued += 1
        messages.success(request, _("%(n)d delivery(ies) queued.") % {"n": queued})
