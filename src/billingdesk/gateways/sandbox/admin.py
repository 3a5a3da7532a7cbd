"""Read-only views of the sandbox gateway's state, and redelivery of its webhooks."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.gateways.sandbox.delivery import event_deliver
from billingdesk.gateways.sandbox.models import SandboxAccount, SandboxEvent, SandboxObject


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """The sandbox changes only through its engine, like a real gateway's data."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["account", "webhooks_enabled", "invoice_prefix", "next_invoice_number"]
    fields = ["webhooks_enabled"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with the account's first sandbox operation


@admin.register(SandboxObject)
class SandboxObjectAdmin(ReadOnly):
    list_display = ["object_id", "kind", "account", "created", "updated"]
    list_filter = ["kind", "account"]
    search_fields = ["=object_id"]
    ordering = ["-seq"]


@admin.register(SandboxEvent)
class SandboxEventAdmin(ReadOnly):
    list_display = [
        "event_id",
        "type",
        "object_id",
        "delivery",
        "attempts",
        "last_status",
        "created",
    ]
    list_filter = ["delivery", "type", "account"]
    search_fields = ["=event_id", "=object_id"]
    actions = ["redeliver"]

    @admin.action(description="Deliver the selected events again")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[SandboxEvent]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        queryset.update(delivery=SandboxEvent.Delivery.PENDING)
        for pk in pks:
            enqueue_on_commit(event_deliver, pk)
        self.message_user(request, f"{len(pks)} events queued for delivery.", messages.SUCCESS)
