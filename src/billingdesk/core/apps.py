from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "billingdesk.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.urls import register_converter

        from billingdesk.core.parsing import IdConverter

        # ``<id:…>``: database ids in URLs, bounded to 63 bits (before any URLconf loads).
        register_converter(IdConverter, "id")
