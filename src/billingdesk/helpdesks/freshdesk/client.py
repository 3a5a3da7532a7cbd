"""Freshdesk API v2: create a ticket, add a private note, read the ticket's conversation.

Reference: shared/reference/helpdesks.md §6.2. Auth: Basic with the API key as user, ``X`` as
password.
"""

from __future__ import annotations

import hashlib
import html

from billingdesk.core.html import html_to_text
from billingdesk.helpdesks.http import HelpdeskHttp, form_fields, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)

# Conversations are listed 100 a page at most (``per_page``), the next page in ``Link``.
_PER_PAGE = 100
_MAX_PAGES = 50


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

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """The ticket's description (``GET /api/v2/tickets/{id}?include=requester``: the
        requester's first message) then its conversations (``GET /api/v2/tickets/{id}/
        conversations``, oldest first, following the ``Link: <…>; rel="next"`` header),
        private notes left out; ``incoming`` marks what came from outside (the customer).
        https://developers.freshdesk.com/api/#view_a_ticket, #list_all_ticket_notes"""
        http = self._http()
        ticket = http.json(
            "GET", f"/api/v2/tickets/{ticket_id}", params={"include": "requester"}, ok=(200,)
        )
        requester = ticket.get("requester") or {}
        messages = [
            TicketMessage(
                author=str(requester.get("email") or requester.get("name") or ""),
                body=_text(ticket.get("description_text"), ticket.get("description")),
                at=str(ticket.get("created_at") or ""),
                from_customer=True,
            )
        ]
        url = f"/api/v2/tickets/{ticket_id}/conversations"
        params: dict[str, str] | None = {"per_page": str(_PER_PAGE)}
        for _page in range(_MAX_PAGES):
            rows, url = http.json_page("GET", url, params=params, ok=(200,))
            for row in rows if isinstance(rows, list) else []:
                if not isinstance(row, dict) or row.get("private") is not False:
                    continue  # a private note (or a row that does not say: not quoted)
                messages.append(
                    TicketMessage(
                        author=str(row.get("from_email") or row.get("user_id") or ""),
                        body=_text(row.get("body_text"), row.get("body")),
                        at=str(row.get("created_at") or ""),
                        from_customer=bool(row.get("incoming")),
                    )
                )
            params = None  # the next page's URL carries its own query
            if not url:
                break
        return messages

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/api/v2/agents/me", ok=(200,))
        contact = data.get("contact") or {}
        return ConnectionCheck(ok=True, detail=f"signed in as {contact.get('email', '?')}")


def _text(plain: object, markup: object) -> str:
    """Freshdesk gives both ``body_text`` and the HTML ``body``: the text, else the HTML's."""
    return str(plain or "") or html_to_text(str(markup or ""))
