"""Django app configuration; connects the mirror receiver when the app is ready."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "billingdesk.documents"
    label = "documents"
    verbose_name = "Invoices, receipts and credit notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billingdesk.documents import receivers  # noqa: F401  (connects the signal)
