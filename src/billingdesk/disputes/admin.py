"""Admin for the refund policies quoted in dispute evidence, and the dispute cases."""

from __future__ import annotations

from django.contrib import admin

from billingdesk.disputes.models import DisputeCase, RefundPolicy


@admin.register(RefundPolicy)
class RefundPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "account", "brand", "updated_at")


@admin.register(DisputeCase)
class DisputeCaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("dispute", "assigned_to", "reminders_sent")
    raw_id_fields = ("dispute",)
    autocomplete_fields = ()
