from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "billingdesk.api"
    label = "api"
    verbose_name = "API and webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billingdesk.api.webhooks import receivers  # noqa: F401  (connects the signal)
