"""Any helpdesk able to frame a page: a signed URL, no ticket API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.helpdesks.interface import EmbedFamily, Provider, Setting
from billingdesk.helpdesks.registry import register

if TYPE_CHECKING:
    from billingdesk.helpdesks.models import HelpdeskConnection


class IframeProvider(Provider):
    kind = "iframe"
    urlconf = "billingdesk.helpdesks.iframe.urls"  # its launch addresses
    display_name = "Any helpdesk (signed iframe URL)"
    family = EmbedFamily.IFRAME
    vouches_for_agent = True  # when the signer includes ``agent``
    secrets = (Setting("signing_secret", "Shared secret the host signs panel URLs with."),)
    doc = "docs/helpdesks/iframe.md"

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        return []  # the host's origin must be configured explicitly


register(IframeProvider())
