"""Chatwoot dashboard apps send no proof at all.

Reference: shared/reference/helpdesks.md §7.1: the context arrives by ``postMessage`` to ``'*'``,
unsigned. So the Chatwoot entry page gets a launch token that vouches for nothing: the page
shows no billing data until the agent signs in to billingdesk, and the contact in the
postMessage is only a hint of whom to show (checked against the configured Chatwoot origin in
the browser, and never used to choose the connection).
"""

from __future__ import annotations

from billingdesk.helpdesks.interface import Launch


def verify() -> Launch:
    return Launch()
