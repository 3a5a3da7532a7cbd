"""Inbound messages in the admin: what arrived, what became of it, and a re-run for failures."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.processing import message_retry


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = (
        "received_at",
        "from_email",
        "subject",
        "source",
        "status",
        "matched_by",
        "ticket_id",
        "pan_redacted",
        "reason",
    )
    list_filter = ("status", "matched_by", "source", "pan_redacted")
    search_fields = ("from_email", "message_id", "subject", "ticket_id")
    exclude = ("raw",)
    actions = ("process_again",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in InboundMessage._meta.fields if f.name != "raw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Process again (failed or waiting messages)"))
    def process_again(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        count = sum(message_retry(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d message queued to be processed again.",
                "%(count)d messages queued to be processed again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
