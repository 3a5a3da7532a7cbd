from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from billingdesk.accounts.models import AgentProfile, RefundLimit


class AgentProfileInline(admin.StackedInline):  # type: ignore[type-arg]
    model = AgentProfile
    can_delete = False
    verbose_name_plural = "billingdesk role"


class AgentUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [AgentProfileInline]
    list_display = ("username", "email", "role", "is_active", "is_superuser")

    @admin.display(description="role")
    def role(self, obj: User) -> str:
        profile = getattr(obj, "agent_profile", None)
        return profile.get_role_display() if profile else "read-only"


admin.site.unregister(User)
admin.site.register(User, AgentUserAdmin)


@admin.register(RefundLimit)
class RefundLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("role", "kind", "currency", "max_amount", "daily_max")
    list_filter = ("role", "kind", "currency")
