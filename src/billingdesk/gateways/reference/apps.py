"""Registers the reference connector when the app is enabled (it is not by default)."""

from django.apps import AppConfig


class ReferenceGatewayConfig(AppConfig):
    name = "billingdesk.gateways.reference"
    label = "reference_gateway"
    verbose_name = "Reference gateway"

    def ready(self) -> None:
        from billingdesk.gateways.reference.connector import ReferenceConnector
        from billingdesk.gateways.registry import register

        register(ReferenceConnector)
