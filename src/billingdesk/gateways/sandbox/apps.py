from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "billingdesk.gateways.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox gateway"

    def ready(self) -> None:
        from billingdesk.gateways.registry import register
        from billingdesk.gateways.sandbox.connector import SandboxConnector

        register(SandboxConnector)
