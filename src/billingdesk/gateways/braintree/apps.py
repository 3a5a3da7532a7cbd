"""App config: registers the Braintree connector with the gateway registry."""

from django.apps import AppConfig


class BraintreeGatewayConfig(AppConfig):
    name = "billingdesk.gateways.braintree"
    label = "braintree_gateway"
    verbose_name = "Braintree gateway"

    def ready(self) -> None:
        from billingdesk.gateways.braintree.connector import BraintreeConnector
        from billingdesk.gateways.registry import register

        register(BraintreeConnector)
