"""FreeScout's core has no external sidebar; the third-party Sidebar Webhook module sends only
a plain shared secret and no agent (shared/reference/helpdesks.md §7.2). billingdesk's FreeScout
panel is therefore the signed iframe URL (``helpdesks.iframe.verification``), signed on a server
with the connection's ``signing_secret``: same checks (HMAC-SHA256 in constant time, 5-minute
``ts``, no unknown or repeated parameters)."""

from __future__ import annotations

from billingdesk.helpdesks.iframe.verification import signed_query, verify

__all__ = ["signed_query", "verify"]
