from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "billingdesk.inbound"
    label = "inbound"
    verbose_name = "Inbound email"

    def ready(self) -> None:
        # Connects the anymail ``inbound`` signal to the intake.
        from billingdesk.inbound import receivers  # noqa: F401
