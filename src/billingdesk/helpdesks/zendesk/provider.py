"""Zendesk Support: ZAF v2 ``ticket_sidebar`` app (server-side, signed URL), tickets API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register
from billingdesk.helpdesks.zendesk.client import ZendeskClient

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


class ZendeskProvider(Provider):
    kind = "zendesk"
    urlconf = "billingdesk.helpdesks.zendesk.urls"  # its launch addresses
    display_name = "Zendesk"
    family = EmbedFamily.IFRAME
    vouches_for_agent = False
    settings = (
        Setting(
            "subdomain",
            "Your Zendesk subdomain (acme for acme.zendesk.com).",
            pattern=r"[a-z0-9]([a-z0-9-]*[a-z0-9])?",
        ),
        Setting(
            "installation_id",
            "The app installation id (for the signed token's audience).",
            pattern=r"\d{1,20}",
        ),
        Setting(
            "public_key", "The app's public key (PEM), from /api/v2/apps/{app_id}/public_key.pem."
        ),
        Setting("api_email", "Email of the agent the API token belongs to.", required=False),
        Setting(
            "api_base",
            "API base URL override (tests only).",
            required=False,
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
    )
    secrets = (
        Setting(
            "api_token",
            "Zendesk API token (Admin Center > Apps and integrations > APIs).",
            required=False,
        ),
    )
    client_class = ZendeskClient
    doc = "docs/helpdesks/zendesk.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        sub = connection.setting("subdomain")
        return [f"https://{sub}.zendesk.com"] if sub else []


register(ZendeskProvider())
