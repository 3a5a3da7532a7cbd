"""App config: registers the WooCommerce connector with the gateway registry."""

from django.apps import AppConfig


class WooCommerceGatewayConfig(AppConfig):
    name = "billingdesk.gateways.woocommerce"
    label = "woocommerce_gateway"
    verbose_name = "WooCommerce gateway"

    def ready(self) -> None:
        from billingdesk.gateways.registry import register
        from billingdesk.gateways.woocommerce.connector import WooCommerceConnector

        register(WooCommerceConnector)
