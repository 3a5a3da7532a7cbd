from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "billingdesk.ops"
    label = "ops"
    verbose_name = "Operations"
