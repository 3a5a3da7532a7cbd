"""Django app configuration of the customer billing pages."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "billingdesk.portal"
    label = "portal"
    verbose_name = "Customer billing pages"
    default_auto_field = "django.db.models.BigAutoField"
