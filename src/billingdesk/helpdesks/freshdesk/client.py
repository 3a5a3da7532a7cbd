"""Freshdesk API v2: create a ticket, add a private note.

Reference: shared/reference/helpdesks.md §6.2. Auth: Basic with the API key as user, ``X`` as
password.
"""

from __future__ import annotations

import html

from billingdesk.helpdesks.http import HelpdeskHttp, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)


class FreshdeskClient(TicketClient):
    def _http(self) -> HelpdeskHttp:
        c = self.connection
        domain = c.setting("domain")
        base = (
            c.setting("api_base") or f"https://{require(domain, 'Freshdesk domain')}.freshdesk.com"
        )
        key = require(c.secret("api_key"), "Freshdesk API key (api_key)")
        return HelpdeskHttp(base, name="Freshdesk", auth=(key, "X"))

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        body = {
            "email": draft.requester_email,
            "name": draft.requester_name or draft.requester_email,
            "subject": draft.subject,
            "description": "<p>"
            + html.escape(draft.message or draft.subject).replace("\n", "<br>")
            + "</p>",
            "status": 2,
            "priority": 1,
            "tags": list(draft.tags),
        }
        data = self._http().json("POST", "/api/v2/tickets", json_body=body, ok=(201,))
        tid = pick(data, "id", name="Freshdesk", what="a ticket id")
        domain = self.connection.setting("domain")
        return TicketRef(
            ticket_id=tid, url=f"https://{domain}.freshdesk.com/a/tickets/{tid}" if domain else ""
        )

    def note_add(self, ticket_id: str, note: Note) -> str:
        data = self._http().json(
            "POST",
            f"/api/v2/tickets/{ticket_id}/notes",
            json_body={"body": note.html, "private": True},
            ok=(201,),
        )
        return str(data.get("id", ""))

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/api/v2/agents/me", ok=(200,))
        contact = data.get("contact") or {}
        return ConnectionCheck(ok=True, detail=f"signed in as {contact.get('email', '?')}")
