"""The audit log, action requests and audit checks in the admin: read-only, filterable.

Every admin page carries an alert while the latest check of the audit chain failed, and
while actions of unknown outcome wait for someone to check them at the gateway.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billingdesk.actions.audit import audit_alert
from billingdesk.actions.models import (
    ActionKind,
    ActionReason,
    ActionRequest,
    AuditCheck,
    AuditEntry,
)
from billingdesk.core.admin import CappedCountPaginator, ExactSearchAdmin, ReadOnlyMixin
from billingdesk.core.labels import label

RESULTS = [
    ("succeeded", "succeeded"),
    ("refused", "refused"),
    ("failed", "failed"),
    ("approval_requested", "approval requested"),
    ("denied", "denied"),
    ("unknown", "unknown: check the gateway"),
]


class _FixedValues(admin.SimpleListFilter):
    """A filter over a fixed list of values (no ``SELECT DISTINCT`` over the whole table)."""

    values: list[tuple[str, str]] = []

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return self.values

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{str(self.parameter_name): value}) if value else queryset


class ResultFilter(_FixedValues):
    title = "result"
    parameter_name = "result"
    values = RESULTS


class ActionFilter(_FixedValues):
    title = "action"
    parameter_name = "action"
    values = [(str(k.value), str(k.label)) for k in ActionKind]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, ExactSearchAdmin):
    list_display = ("seq", "at", "actor_name", "approver_name", "action", "result", "amount_shown",
                    "target_id", "detail_short")  # fmt: skip
    list_filter = (ResultFilter, ActionFilter)
    search_fields = ("target_id", "actor_name", "gateway_request_id")
    search_help_text = "An exact record id (ch_…), agent (as shown) or gateway request id."
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ("account",)
    ordering = ("-seq",)

    @admin.display(description="amount")
    def amount_shown(self, obj: AuditEntry) -> str:
        if obj.amount is None or not obj.currency:
            return ""
        from billingdesk.core.money import Money

        return str(Money(obj.amount, obj.currency))

    @admin.display(description="detail")
    def detail_short(self, obj: AuditEntry) -> str:
        return obj.detail[:120]


@admin.register(ActionRequest)
class ActionRequestAdmin(ReadOnlyMixin, ExactSearchAdmin):
    list_display = ("pk", "created_at", "kind", "status", "target_id", "amount", "currency",
                    "requested_by", "approved_by", "error")  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("target_id",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ("requested_by", "approved_by")


@admin.register(AuditCheck)
class AuditCheckAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "ok", "entries", "first_bad_seq", "detail", "anchored_seq")
    list_filter = ("ok",)


_each_context = admin.site.each_context


def _each_context_with_alert(request: HttpRequest) -> dict[str, Any]:
    context = _each_context(request)
    if not getattr(request, "_audit_alert_shown", False):
        request._audit_alert_shown = True  # type: ignore[attr-defined]
        broken = audit_alert()
        if broken is not None:
            messages.error(
                request,
                f"The audit log failed its check of {broken.at:%Y-%m-%d %H:%M} UTC: "
                f"{broken.detail} Run `billingdesk audit verify` and investigate.",
            )
        unknown = ActionRequest.objects.filter(status=ActionRequest.Status.UNKNOWN).count()
        if unknown:
            messages.warning(
                request,
                f"{unknown} action(s) have an unknown outcome: check them at the gateway "
                "(Action requests, status “unknown”).",
            )
    return context


admin.site.each_context = _each_context_with_alert  # type: ignore[method-assign]


@admin.register(ActionReason)
class ActionReasonAdmin(admin.ModelAdmin[ActionReason]):
    """The reasons agents choose from, per kind of action: reorder, rename, switch off."""

    list_display = ("kind", "code", "shown_as", "position", "active", "text_required")
    list_editable = ("position", "active", "text_required")
    list_filter = ("kind", "active")
    search_fields = ("code", "label")
    ordering = ("kind", "position", "code")

    @admin.display(description="shown to agents as")
    def shown_as(self, reason: ActionReason) -> str:
        return reason.label or label(reason.code)
