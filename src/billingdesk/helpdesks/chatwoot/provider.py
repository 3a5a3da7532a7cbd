"""Chatwoot: dashboard app (iframe tab, postMessage context), Application API."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from billingdesk.helpdesks.chatwoot.client import ChatwootClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


def instance_origin(connection: HelpdeskConnection) -> str:
    parts = urlsplit(connection.setting("base_url"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ChatwootProvider(Provider):
    kind = "chatwoot"
    urlconf = "billingdesk.helpdesks.chatwoot.urls"  # its launch addresses
    display_name = "Chatwoot"
    family = EmbedFamily.IFRAME
    vouches_for_agent = False
    settings = (
        Setting(
            "base_url",
            "Your Chatwoot address (its FRONTEND_URL), e.g. https://chat.acme.com.",
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
        Setting(
            "account_id",
            "Chatwoot account id (the number in /app/accounts/<id>/).",
            required=False,
            pattern=r"\d{1,20}",
        ),
        Setting(
            "inbox_id",
            "API or email inbox new conversations go to.",
            required=False,
            pattern=r"\d{1,20}",
        ),
    )
    secrets = (
        Setting("api_access_token", "Access token of an agent or agent bot.", required=False),
    )
    client_class = ChatwootClient
    doc = "docs/helpdesks/chatwoot.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        origin = instance_origin(connection)
        return [origin] if origin else []


register(ChatwootProvider())
