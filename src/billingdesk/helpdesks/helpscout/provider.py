"""Help Scout: legacy Dynamic Content app (server-rendered sidebar HTML), Mailbox API 2.0."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.helpdesks.helpscout.client import HelpScoutClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


class HelpScoutProvider(Provider):
    kind = "helpscout"
    urlconf = "billingdesk.helpdesks.helpscout.urls"  # its launch addresses
    display_name = "Help Scout"
    family = EmbedFamily.SERVER
    vouches_for_agent = True  # ``user`` is inside the signed body
    settings = (
        Setting(
            "mailbox_id", "Mailbox new conversations go to.", required=False, pattern=r"\d{1,20}"
        ),
        Setting("app_id", "OAuth app id (Your Profile > My Apps).", required=False),
        Setting(
            "api_base",
            "API base URL override (tests only).",
            required=False,
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
    )
    secrets = (
        Setting("secret_key", "The Dynamic Content app's secret key (40 characters at most)."),
        Setting("app_secret", "OAuth app secret, for creating conversations.", required=False),
    )
    client_class = HelpScoutClient
    doc = "docs/helpdesks/helpscout.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        return ["https://secure.helpscout.net"]


register(HelpScoutProvider())
