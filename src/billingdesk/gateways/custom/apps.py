"""Registers the custom-gateway connector."""

from django.apps import AppConfig


class CustomGatewayConfig(AppConfig):
    name = "billingdesk.gateways.custom"
    label = "custom_gateway"
    verbose_name = "Custom gateway"

    def ready(self) -> None:
        from billingdesk.gateways.custom.connector import CustomConnector
        from billingdesk.gateways.registry import register

        register(CustomConnector)
