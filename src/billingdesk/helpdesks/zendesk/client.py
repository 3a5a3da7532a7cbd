"""Zendesk Support API v2: create a ticket, add a private comment.

Reference: shared/reference/helpdesks.md §4.2. Auth: Basic ``{email}/token:{api_token}``.
"""

from __future__ import annotations

from billingdesk.helpdesks.http import HelpdeskHttp, pick, require
from billingdesk.helpdesks.interface import (
    Attachment,
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)


class ZendeskClient(TicketClient):
    attachment_limit = 50 * 2**20  # per upload (Zendesk: files up to 50 MB)

    def _http(self) -> HelpdeskHttp:
        c = self.connection
        sub = c.setting("subdomain")
        base = c.setting("api_base") or f"https://{require(sub, 'Zendesk subdomain')}.zendesk.com"
        email = require(c.setting("api_email"), "API email (api_email)")
        token = require(c.secret("api_token"), "Zendesk API token (api_token)")
        return HelpdeskHttp(base, name="Zendesk", auth=(f"{email}/token", token))

    def _ticket_url(self, ticket_id: str) -> str:
        sub = self.connection.setting("subdomain")
        return f"https://{sub}.zendesk.com/agent/tickets/{ticket_id}" if sub else ""

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        body: dict[str, dict[str, object]] = {
            "ticket": {
                "subject": draft.subject,
                "requester": {
                    "email": draft.requester_email,
                    "name": draft.requester_name or draft.requester_email,
                },
                "comment": {"body": draft.message or draft.subject},
                "tags": list(draft.tags),
            }
        }
        if draft.external_id:  # searchable: ``ticket_find`` after a crash
            body["ticket"]["external_id"] = draft.external_id
        data = self._http().json("POST", "/api/v2/tickets.json", json_body=body, ok=(201,))
        ticket_id = pick(data, "ticket", "id", name="Zendesk", what="a ticket id")
        return TicketRef(ticket_id=ticket_id, url=self._ticket_url(ticket_id))

    def ticket_find(self, draft: TicketDraft) -> TicketRef | None:
        if not draft.external_id:
            return None
        data = self._http().json(
            "GET", "/api/v2/tickets.json", params={"external_id": draft.external_id}, ok=(200,)
        )
        tickets = data.get("tickets") or []
        if not tickets:
            return None
        ticket_id = pick(tickets, 0, "id", name="Zendesk", what="a ticket id")
        return TicketRef(ticket_id=ticket_id, url=self._ticket_url(ticket_id), created=False)

    def _upload(self, http: HelpdeskHttp, attachment: Attachment) -> str:
        """``POST /api/v2/uploads.json?filename=…`` with the file as the body: a token."""
        data = http.json(
            "POST",
            "/api/v2/uploads.json",
            params={"filename": attachment.filename},
            data=attachment.data,
            headers={"Content-Type": attachment.content_type or "application/octet-stream"},
            ok=(201,),
        )
        return pick(data, "upload", "token", name="Zendesk", what="an upload token")

    def note_add(self, ticket_id: str, note: Note) -> str:
        http = self._http()
        comment: dict[str, object] = {"html_body": note.html, "public": False}
        if note.attachments:
            comment["uploads"] = [self._upload(http, a) for a in note.attachments]
        body = {"ticket": {"comment": comment}}
        data = http.json("PUT", f"/api/v2/tickets/{ticket_id}.json", json_body=body, ok=(200,))
        audit = data.get("audit") or {}
        return str(audit.get("id", ""))

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/api/v2/users/me.json", ok=(200,))
        user = data.get("user") or {}
        return ConnectionCheck(ok=True, detail=f"signed in as {user.get('email', '?')}")
