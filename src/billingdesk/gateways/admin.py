"""Admin pages for connecting gateway accounts and watching their webhooks and backfills.

Secrets are write-only here: credentials and the webhook signing secret are typed into
password inputs, stored encrypted, and never rendered back (a blank input keeps the stored
value). Before an account is saved its connector checks the credentials with the gateway.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billingdesk.core.admin import CappedCountPaginator, ExactSearchAdmin, ReadOnlyMixin
from billingdesk.core.errors import NotFound, OperationalError, UserFacingError
from billingdesk.gateways import registry
from billingdesk.gateways.models import GatewayAccount, SyncRun, WebhookEvent
from billingdesk.gateways.sync import sync_run_skipped
from billingdesk.gateways.webhooks import webhook_event_process

_CREDENTIAL_PREFIX = "credential__"
# How many recent events the "type" filter looks at for its choices (a DISTINCT over every
# event ever received would read the whole table on each page view).
_TYPE_FILTER_SAMPLE = 2000


def _credential_field_name(kind: str, name: str) -> str:
    return f"{_CREDENTIAL_PREFIX}{kind}__{name}"


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


def credential_inputs(account: GatewayAccount | None) -> dict[str, forms.Field]:
    """Password inputs for the credentials of the account's kind (every kind's when adding)."""
    kinds = [account.kind] if account is not None else [kind for kind, _ in registry.kinds()]
    inputs: dict[str, forms.Field] = {}
    for kind in kinds:
        try:
            connector = registry.connector_class(kind)
        except NotFound:
            continue
        for name in connector.credential_fields:
            label = name.replace("_", " ")
            stored = account is not None and bool(account.credentials.get(name))
            plain = connector.plain_credential_fields.get(name)
            help_text = (
                "Stored. Leave blank to keep it, or type a new value."
                if stored
                else f"Required for {connector.display_name} accounts."
            )
            inputs[_credential_field_name(kind, name)] = forms.CharField(
                label=label if account is not None else f"{connector.display_name}: {label}",
                required=False,  # required for the chosen kind only: checked in clean()
                strip=True,
                widget=forms.TextInput(attrs={"autocomplete": "off"})
                if plain is not None
                else _secret_input(),
                help_text=f"{plain} {help_text}" if plain else help_text,
            )
    return inputs


def gateway_account_form(account: GatewayAccount | None) -> type[GatewayAccountForm]:
    """The account form with the credential inputs that fit ``account`` (None: a new one)."""
    metaclass: Any = type(GatewayAccountForm)  # the ModelForm metaclass collects the fields
    form_class: type[GatewayAccountForm] = metaclass(
        "GatewayAccountForm", (GatewayAccountForm,), credential_inputs(account)
    )
    return form_class


class GatewayAccountForm(forms.ModelForm):  # type: ignore[type-arg]
    """The kind is chosen among registered connectors; credentials are password inputs added
    by ``gateway_account_form`` (all kinds' on the add page, only the account's kind
    afterwards, since the kind cannot change once the mirror holds its data)."""

    kind = forms.ChoiceField(choices=registry.kinds, help_text="Which gateway this account is.")
    webhook_secret_input = forms.CharField(
        label="Webhook signing secret",
        required=False,
        strip=True,
        widget=_secret_input(),
        help_text="The secret the gateway signs webhooks with. Leave blank to keep the "
        "current one (a new account gets a generated secret).",
    )

    dashboard_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="The account's page in the gateway's dashboard, for links from the panel.",
    )

    class Meta:
        model = GatewayAccount
        fields = ["name", "kind", "default_currency", "dashboard_url", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adding = self.instance._state.adding
        self.credentials: dict[str, str] = {}
        if not self.adding:
            kind_field = self.fields["kind"]
            assert isinstance(kind_field, forms.ChoiceField)
            kind_field.disabled = True
            kind_field.choices = self._kind_choices_with(self.instance.kind)

    @staticmethod
    def _kind_choices_with(kind: str) -> list[tuple[str, str]]:
        choices = registry.kinds()
        if kind not in {value for value, _ in choices}:
            choices.append((kind, f"{kind} (no connector installed)"))
        return choices

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind = self.instance.kind if not self.adding else cleaned.get("kind")
        if not kind or self.errors:
            return cleaned
        try:
            connector_class = registry.connector_class(kind)
        except NotFound as exc:
            raise forms.ValidationError(exc.message) from exc

        credentials = {} if self.adding else dict(self.instance.credentials)
        missing: list[str] = []
        for name in connector_class.credential_fields:
            value = cleaned.get(_credential_field_name(kind, name)) or ""
            if value:
                credentials[name] = value
            elif not credentials.get(name):
                missing.append(name)
        for name in missing:
            self.add_error(
                _credential_field_name(kind, name), f"Enter the {name.replace('_', ' ')}."
            )
        if missing:
            return cleaned

        # Check against the gateway with the new values, on a copy: nothing is kept unless
        # the gateway accepts them.
        candidate = copy.copy(self.instance)
        candidate.kind = kind
        candidate.name = cleaned.get("name") or self.instance.name
        candidate.credentials = credentials
        if cleaned.get("webhook_secret_input"):
            candidate.webhook_secret = cleaned["webhook_secret_input"]
        try:
            connector_class(candidate).check_credentials()
        except UserFacingError as exc:
            raise forms.ValidationError(
                f"{connector_class.display_name} refused these credentials: {exc.message}"
            ) from exc
        except OperationalError as exc:
            raise forms.ValidationError(
                f"Could not reach {connector_class.display_name} to check the credentials "
                f"({exc.message}). Nothing was saved; try again."
            ) from exc
        self.credentials = credentials
        return cleaned

    def save(self, commit: bool = True) -> GatewayAccount:
        account: GatewayAccount = super().save(commit=False)
        account.credentials = self.credentials
        secret = self.cleaned_data.get("webhook_secret_input")
        if secret:
            account.webhook_secret = secret
        if commit:
            account.save()
        return account


@admin.register(GatewayAccount)
class GatewayAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = GatewayAccountForm
    list_display = ["name", "kind", "is_active", "default_currency", "webhook_url", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["webhook_url_display", "credentials_stored", "created_at"]

    def get_form(
        self,
        request: HttpRequest,
        obj: GatewayAccount | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        kwargs["form"] = gateway_account_form(obj)
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: GatewayAccount | None = None) -> Any:
        return [
            (None, {"fields": [*GatewayAccountForm.Meta.fields]}),
            (
                "Credentials (write-only)",
                {"fields": [*credential_inputs(obj), "credentials_stored"]},
            ),
            ("Webhooks", {"fields": ["webhook_url_display", "webhook_secret_input"]}),
            (None, {"fields": ["created_at"]}),
        ]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deleting an account deletes its whole mirror (maybe millions of rows) in one request;
        # deactivate it instead ("is active").
        return False

    @admin.display(description="webhook URL")
    def webhook_url_display(self, obj: GatewayAccount | None) -> str:
        if obj is None or obj._state.adding:
            return "Shown once the account is saved."
        return obj.webhook_url

    @admin.display(description="stored credentials")
    def credentials_stored(self, obj: GatewayAccount | None) -> str:
        if obj is None or obj._state.adding:
            return "-"
        names = sorted(name for name, value in obj.credentials.items() if value)
        secret = "webhook secret set" if obj.webhook_secret else "no webhook secret"
        return ", ".join([*(f"{name} set" for name in names), secret])


class EventTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = WebhookEvent.objects.order_by("-received_at").values_list("event_type", flat=True)[
            :_TYPE_FILTER_SAMPLE
        ]
        return [(value, value) for value in sorted(set(recent) - {""})]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(event_type=value) if value else queryset


def _pretty_body(body: bytes | memoryview) -> str:
    text = bytes(body).decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, ExactSearchAdmin):
    list_display = [
        "received_at",
        "account",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "processed_at",
    ]
    list_filter = ["status", EventTypeFilter, "account"]
    list_select_related = ["account"]
    search_fields = ["event_id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ("-id",)  # received order, through the primary key index
    list_per_page = 50
    actions = ["process_again"]
    fields = readonly_fields = (
        "account",
        "received_at",
        "status",
        "event_type",
        "event_id",
        "attempts",
        "error",
        "processed_at",
        # For a rejected delivery: who sent it, and the whole body's size and hash (only a
        # prefix of it is kept).
        "source_ip",
        "body_size",
        "body_sha256",
        "headers_text",
        "body_text",
    )

    @admin.display(description="headers")
    def headers_text(self, obj: WebhookEvent) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="body")
    def body_text(self, obj: WebhookEvent) -> SafeString:
        return format_html("<pre>{}</pre>", _pretty_body(obj.body))

    def has_process_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("gateways.change_webhookevent"))

    @admin.action(description="Process again (failed or pending events)", permissions=["process"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        retryable = [WebhookEvent.Status.FAILED, WebhookEvent.Status.PENDING]
        pks = list(queryset.filter(status__in=retryable).values_list("pk", flat=True))
        for pk in pks:
            webhook_event_process.enqueue(pk)
        skipped = queryset.count() - len(pks)
        message = f"{len(pks)} event(s) queued for processing."
        if skipped:
            message += f" {skipped} skipped: only failed or pending events are processed again."
        self.message_user(request, message, messages.SUCCESS if pks else messages.WARNING)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "account",
        "status",
        "objects",
        "skipped",
        "pages",
        "started_at",
        "updated_at",
        "finished_at",
    ]
    list_filter = ["status", "account"]
    list_select_related = ["account"]
    fields = readonly_fields = (
        "account",
        "status",
        "counts_text",
        "skipped",
        "pages",
        "kind_index",
        "cursor",
        "error",
        "started_at",
        "updated_at",
        "finished_at",
    )

    @admin.display(description="objects")
    def objects(self, obj: SyncRun) -> int:
        return sum(int(value) for value in obj.counts.values())

    @admin.display(description="skipped (tried again next run)")
    def skipped(self, obj: SyncRun) -> str:
        return ", ".join(sync_run_skipped(obj)) or "-"

    @admin.display(description="objects per kind")
    def counts_text(self, obj: SyncRun) -> str:
        return ", ".join(f"{kind}: {count}" for kind, count in obj.counts.items()) or "-"
