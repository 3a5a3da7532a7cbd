from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest

from billingdesk.accounts.models import AgentProfile, RefundLimit, Role
from billingdesk.accounts.selectors import role_of


class AgentProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AgentProfile
        fields = ["role"]

    def has_changed(self) -> bool:
        # The role shown is a choice the administrator made even when it is the one shown
        # first: an inline form left as shown would otherwise not be saved, and the user
        # would silently stay read-only (issue 20 #1).
        return True


class AgentProfileInline(admin.StackedInline):  # type: ignore[type-arg]
    model = AgentProfile
    form = AgentProfileForm
    can_delete = False
    min_num = 1
    max_num = 1
    verbose_name_plural = "billingdesk role"


class AgentUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [AgentProfileInline]
    list_display = ("username", "email", "role", "is_active", "is_superuser")

    @admin.display(description="role")
    def role(self, obj: User) -> str:
        return str(role_of(obj).label)

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if (
            isinstance(inline, AgentProfileInline)
            and obj is not None
            and obj.pk
            and not AgentProfile.objects.filter(user=obj).exists()
        ):
            # An existing user without a profile is read-only: show (and keep) that, rather
            # than the model's default, so saving the user never promotes it.
            kwargs["initial"] = [{"role": Role.READ_ONLY}]
        return kwargs


admin.site.unregister(User)
admin.site.register(User, AgentUserAdmin)


@admin.register(RefundLimit)
class RefundLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("role", "kind", "currency", "max_amount", "daily_max")
    list_filter = ("role", "kind", "currency")
