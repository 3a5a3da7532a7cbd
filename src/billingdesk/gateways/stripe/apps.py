"""App config: registers the Stripe connector with the gateway registry."""

from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    name = "billingdesk.gateways.stripe"
    label = "stripe_gateway"
    verbose_name = "Stripe gateway"

    def ready(self) -> None:
        from billingdesk.gateways.registry import register
        from billingdesk.gateways.stripe.connector import StripeConnector

        register(StripeConnector)
