"""Django app configuration; connects the rollup receiver when the app is ready."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "billingdesk.reports"
    label = "reports"
    verbose_name = "Reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billingdesk.reports import receivers  # noqa: F401  (connects the signal)
