"""Front: sidebar plugin following the selected conversation, Core API for messages/comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.helpdesks.front.client import FrontClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


class FrontProvider(Provider):
    kind = "front"
    urlconf = "billingdesk.helpdesks.front.urls"  # its launch addresses
    display_name = "Front"
    family = EmbedFamily.IFRAME
    vouches_for_agent = False
    settings = (
        Setting(
            "inbox_id",
            "Shared inbox customer messages are imported into (inb_…).",
            required=False,
            pattern=r"[A-Za-z0-9_]{1,64}",
        ),
        Setting(
            "inbox_address", "That inbox's address (the imported message's To).", required=False
        ),
        Setting(
            "api_base",
            "API base URL override (tests only).",
            required=False,
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
    )
    secrets = (
        Setting("auth_secret", "The plugin's auth secret (app settings > plugin)."),
        Setting("api_token", "API token with messages:write and comments:write.", required=False),
    )
    client_class = FrontClient
    doc = "docs/helpdesks/front.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        return ["https://*.frontapp.com", "https://*.frontapplication.com"]


register(FrontProvider())
