"""Freshdesk: Freshworks app package (``ticket_sidebar``), API v2 tickets and notes."""

from __future__ import annotations

from billingdesk.helpdesks.freshdesk.client import FreshdeskClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register


class FreshdeskProvider(Provider):
    kind = "freshdesk"
    urlconf = "billingdesk.helpdesks.freshdesk.urls"  # its launch addresses
    display_name = "Freshdesk"
    family = EmbedFamily.HOSTED
    vouches_for_agent = False
    settings = (
        Setting(
            "domain",
            "Your Freshdesk domain (acme for acme.freshdesk.com).",
            pattern=r"[a-z0-9]([a-z0-9-]*[a-z0-9])?",
        ),
        Setting(
            "api_base",
            "API base URL override (tests only).",
            required=False,
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
    )
    secrets = (
        Setting("app_key", "Key the Freshdesk app sends (secure installation parameter)."),
        Setting("api_key", "Freshdesk API key of the agent notes are written as.", required=False),
    )
    client_class = FreshdeskClient
    doc = "docs/helpdesks/freshdesk.md"


register(FreshdeskProvider())
