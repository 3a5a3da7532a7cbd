"""FreeScout: the signed iframe URL for the sidebar, the API & Webhooks module for tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.helpdesks.freescout.client import FreeScoutClient
from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register
from billingdesk.helpdesks.zammad.provider import BASE_URL_PATTERN, instance_origin

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


class FreeScoutProvider(Provider):
    kind = "freescout"
    urlconf = "billingdesk.helpdesks.freescout.urls"  # its launch address
    display_name = "FreeScout"
    family = EmbedFamily.IFRAME
    vouches_for_agent = True  # when the signer includes ``agent``
    settings = (
        Setting(
            "base_url",
            "Your FreeScout address, e.g. https://help.acme.com.",
            pattern=BASE_URL_PATTERN,
        ),
        Setting(
            "mailbox_id",
            "Mailbox new conversations go to (the number in /mailbox/<id>).",
            required=False,
            pattern=r"\d{1,20}",
        ),
        Setting(
            "user_id",
            "FreeScout user the billing notes are written as (the number in /users/profile/<id>).",
            required=False,
            pattern=r"\d{1,20}",
        ),
    )
    secrets = (
        Setting("signing_secret", "Shared secret the sidebar's server signs panel URLs with."),
        Setting("api_key", "API key of the API & Webhooks module.", required=False),
    )
    client_class = FreeScoutClient
    doc = "docs/helpdesks/freescout.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        origin = instance_origin(connection)
        return [origin] if origin else []


register(FreeScoutProvider())
