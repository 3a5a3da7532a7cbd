"""The project's own app: the top layer, where start-up checks of the whole configuration live."""

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "billingdesk.config"
    label = "billingdesk_config"
    verbose_name = "Configuration"

    def ready(self) -> None:
        from billingdesk.config import checks  # noqa: F401 - registers the system checks
