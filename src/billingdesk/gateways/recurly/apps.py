"""App config: registers the Recurly connector with the gateway registry."""

from django.apps import AppConfig


class RecurlyGatewayConfig(AppConfig):
    name = "billingdesk.gateways.recurly"
    label = "recurly_gateway"
    verbose_name = "Recurly gateway"

    def ready(self) -> None:
        from billingdesk.gateways.recurly.connector import RecurlyConnector
        from billingdesk.gateways.registry import register

        register(RecurlyConnector)
