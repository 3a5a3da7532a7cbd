from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "billingdesk.panel"
    label = "panel"
    verbose_name = "Agent panel and console"
