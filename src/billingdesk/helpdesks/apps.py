from django.apps import AppConfig


class HelpdesksConfig(AppConfig):
    name = "billingdesk.helpdesks"
    label = "helpdesks"
    verbose_name = "Helpdesks"

    def ready(self) -> None:
        # Each helpdesk package registers its provider on import.
        from billingdesk.helpdesks import registry

        registry.load_builtin()
