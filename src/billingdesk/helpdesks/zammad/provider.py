"""Zammad: the signed iframe URL for the sidebar, the REST API for tickets and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register
from billingdesk.helpdesks.zammad.client import ZammadClient

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection

BASE_URL_PATTERN = r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?"


def instance_origin(connection: HelpdeskConnection) -> str:
    parts = urlsplit(connection.setting("base_url"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ZammadProvider(Provider):
    kind = "zammad"
    urlconf = "billingdesk.helpdesks.zammad.urls"  # its launch address
    display_name = "Zammad"
    family = EmbedFamily.IFRAME
    vouches_for_agent = True  # when the signer includes ``agent``
    settings = (
        Setting(
            "base_url",
            "Your Zammad address (its FQDN setting), e.g. https://support.acme.com.",
            pattern=BASE_URL_PATTERN,
        ),
        Setting(
            "group",
            "Zammad group new tickets go to (its name, e.g. Users).",
            required=False,
            pattern=r"[^\x00-\x1f]{1,160}",
        ),
    )
    secrets = (
        Setting("signing_secret", "Shared secret the sidebar's server signs panel URLs with."),
        Setting(
            "api_token",
            "Zammad access token (Profile → Token Access) with ticket.agent.",
            required=False,
        ),
    )
    client_class = ZammadClient
    doc = "docs/helpdesks/zammad.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        origin = instance_origin(connection)
        return [origin] if origin else []


register(ZammadProvider())
