from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "billingdesk.core"
    label = "core"
    verbose_name = "Core"
