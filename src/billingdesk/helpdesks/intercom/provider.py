"""Intercom: Canvas Kit Inbox app (conversation details), REST API for conversations."""

from __future__ import annotations

from billingdesk.helpdesks.intercom.client import IntercomClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register


class IntercomProvider(Provider):
    kind = "intercom"
    urlconf = "billingdesk.helpdesks.intercom.urls"  # its launch addresses
    display_name = "Intercom"
    family = EmbedFamily.SERVER
    vouches_for_agent = True  # ``admin`` is inside the signed body
    settings = (
        Setting(
            "workspace_id",
            "Your workspace id (requests from others are refused).",
            required=False,
            pattern=r"[A-Za-z0-9_-]{1,64}",
        ),
        Setting("admin_id", "Admin id notes are written as.", required=False, pattern=r"\d{1,20}"),
        Setting(
            "api_base",
            "API base URL (https://api.eu.intercom.io for EU workspaces).",
            required=False,
            pattern=r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?",
        ),
    )
    secrets = (
        Setting("client_secret", "The app's OAuth client secret (Developer Hub > Basic info)."),
        Setting("access_token", "Access token for the REST API.", required=False),
    )
    client_class = IntercomClient
    doc = "docs/helpdesks/intercom.md"


register(IntercomProvider())
