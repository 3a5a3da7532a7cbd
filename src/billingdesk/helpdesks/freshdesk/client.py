"""Freshdesk API v2: create a ticket, add a private note.

Reference: shared/reference/helpdesks.md §6.2. Auth: Basic with the API key as user, ``X`` as
password.
"""

from __future__ import annotations

import hashlib
import html

from billingdesk.helpdesks.http import HelpdeskHttp, form_fields, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)


def marker_tag(external_id: str) -> str:
    """The tag that finds a ticket again by our key (``search/tickets?query="tag:'…'"``)."""
    return "bd-" + hashlib.sha256(external_id.encode()).hexdigest()[:20]


class FreshdeskClient(TicketClient):
    attachment_limit = 20 * 2**20  # all the files of one request together (reference §6.2)

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
            "tags": list(draft.tags)
            + ([marker_tag(draft.external_id)] if draft.external_id else []),
        }
        data = self._http().json("POST", "/api/v2/tickets", json_body=body, ok=(201,))
        tid = pick(data, "id", name="Freshdesk", what="a ticket id")
        domain = self.connection.setting("domain")
        return TicketRef(
            ticket_id=tid, url=f"https://{domain}.freshdesk.com/a/tickets/{tid}" if domain else ""
        )

    def ticket_find(self, draft: TicketDraft) -> TicketRef | None:
        if not draft.external_id:
            return None
        query = f"\"tag:'{marker_tag(draft.external_id)}'\""
        data = self._http().json(
            "GET", "/api/v2/search/tickets", params={"query": query}, ok=(200,)
        )
        results = data.get("results") or []
        if not results:
            return None
        tid = pick(results, 0, "id", name="Freshdesk", what="a ticket id")
        domain = self.connection.setting("domain")
        url = f"https://{domain}.freshdesk.com/a/tickets/{tid}" if domain else ""
        return TicketRef(ticket_id=tid, url=url, created=False)

    def note_add(self, ticket_id: str, note: Note) -> str:
        body = {"body": note.html, "private": True}
        path = f"/api/v2/tickets/{ticket_id}/notes"
        if note.attachments:  # files need a multipart form (``attachments[]``)
            files = [
                (
                    "attachments[]",
                    (a.filename, a.data, a.content_type or "application/octet-stream"),
                )
                for a in note.attachments
            ]
            data = self._http().json("POST", path, data=form_fields(body), files=files, ok=(201,))
        else:
            data = self._http().json("POST", path, json_body=body, ok=(201,))
        return str(data.get("id", ""))

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/api/v2/agents/me", ok=(200,))
        contact = data.get("contact") or {}
        return ConnectionCheck(ok=True, detail=f"signed in as {contact.get('email', '?')}")
