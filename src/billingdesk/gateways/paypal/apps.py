"""App config: registers the PayPal connector with the gateway registry."""

from django.apps import AppConfig


class PayPalGatewayConfig(AppConfig):
    name = "billingdesk.gateways.paypal"
    label = "paypal_gateway"
    verbose_name = "PayPal gateway"

    def ready(self) -> None:
        from billingdesk.gateways.paypal.connector import PayPalConnector
        from billingdesk.gateways.registry import register

        register(PayPalConnector)
