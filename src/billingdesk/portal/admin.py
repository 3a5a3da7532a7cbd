"""Admin of the customer pages' settings: what customers may do per gateway account, and each
brand's support contact and allowed framing origins."""

from __future__ import annotations

from django.contrib import admin

from billingdesk.portal.models import AccountPolicy, BrandPortal


@admin.register(AccountPolicy)
class AccountPolicyAdmin(admin.ModelAdmin[AccountPolicy]):
    list_display = ["account", "customers_may_cancel", "customers_may_pause"]


@admin.register(BrandPortal)
class BrandPortalAdmin(admin.ModelAdmin[BrandPortal]):
    list_display = ["brand", "support_email", "frame_origins"]
