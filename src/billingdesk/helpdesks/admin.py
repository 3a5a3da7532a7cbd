"""Admin for helpdesk connections: secrets are write-only, origins one per line."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html_join

from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket, origin_clean
from billingdesk.helpdesks.registry import provider_for


class ConnectionForm(forms.ModelForm):  # type: ignore[type-arg]
    origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Origins allowed to frame the panel besides the helpdesk's own, one per line "
        "(https://support.acme.com).",
    )
    new_secrets = forms.CharField(
        required=False,
        label="Secrets",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="KEY=VALUE, one per line; only the keys given are replaced. "
        "Stored secrets are never shown.",
    )

    class Meta:
        model = HelpdeskConnection
        fields = ["name", "kind", "enabled", "settings"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["origins"].initial = "\n".join(self.instance.allowed_frame_origins or [])
            names = ", ".join(sorted(self.instance.secrets or {})) or "none"
            self.fields["new_secrets"].help_text += f" Stored: {names}."

    def clean_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["origins"].splitlines()]
        return [origin_clean(line) for line in lines if line]

    def clean_new_secrets(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for line in self.cleaned_data["new_secrets"].splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValidationError("Write each secret as KEY=VALUE.")
            values[key.strip()] = value.strip()
        return values

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        secrets = data.get("new_secrets") or {}
        if kind:
            known = {s.name for s in provider_for(kind).secrets}
            unknown = set(secrets) - known
            if unknown:
                self.add_error(
                    "new_secrets",
                    f"Unknown secret(s) {', '.join(sorted(unknown))}; "
                    f"this helpdesk takes {', '.join(sorted(known))}.",
                )
        settings = data.get("settings")
        if not isinstance(settings, dict):
            self.add_error("settings", "Settings must be a JSON object.")
        elif kind:
            for error in provider_for(kind).settings_errors(settings):
                self.add_error("settings", error)
        return data

    def save(self, commit: bool = True) -> HelpdeskConnection:
        conn: HelpdeskConnection = super().save(commit=False)
        conn.allowed_frame_origins = self.cleaned_data["origins"]
        conn.secrets = {**(conn.secrets or {}), **self.cleaned_data["new_secrets"]}
        if commit:
            conn.save()
        return conn


@admin.register(HelpdeskConnection)
class HelpdeskConnectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ConnectionForm
    list_display = ["name", "kind", "enabled", "created_at"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["id", "addresses", "created_at", "updated_at"]
    fields = ["id", "name", "kind", "enabled", "settings", "origins", "new_secrets", "addresses"]

    @admin.display(description="Addresses for the helpdesk")
    def addresses(self, obj: HelpdeskConnection) -> str:
        # The add form's unsaved instance already has its random id (and no kind yet).
        if obj is None or obj._state.adding or not obj.kind:
            return "Saved connections show their addresses here."
        from billingdesk.helpdesks.management.commands.helpdesk import entry_urls

        return format_html_join("", "<div>{}: <code>{}</code></div>", entry_urls(obj).items())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "kind"] if obj is not None else self.readonly_fields


@admin.register(HelpdeskTicket)
class HelpdeskTicketAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["ticket_id", "connection", "subject", "person_id", "created_at"]
    list_filter = ["connection"]
    readonly_fields = [f.name for f in HelpdeskTicket._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
