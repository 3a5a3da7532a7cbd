from django.apps import AppConfig


class GatewaysConfig(AppConfig):
    name = "billingdesk.gateways"
    label = "gateways"
    verbose_name = "Gateways"
