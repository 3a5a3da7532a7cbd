"""Zammad has no sidebar extension point that sends a proof.

Reference: shared/reference/disputes-sso-helpdesks.md §3.3 and helpdesks.md §7.3: no iframe
app store, a sidebar only "through custom development". So the Zammad panel is the signed
iframe URL (``helpdesks.iframe.verification``): whatever renders the sidebar signs the query
on a server with the connection's ``signing_secret``; the same checks apply (HMAC-SHA256 in
constant time, 5-minute ``ts``, no unknown or repeated parameters).
"""

from __future__ import annotations

from billingdesk.helpdesks.iframe.verification import signed_query, verify

__all__ = ["signed_query", "verify"]
