"""Intercom REST API: find or create the contact, open a conversation, add a note.

Reference: shared/reference/helpdesks.md §3.2; ``Intercom-Version`` pinned to 2.11.
"""

from __future__ import annotations

from billingdesk.helpdesks.http import HelpdeskHttp, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)

API = "https://api.intercom.io"
VERSION = "2.11"


class IntercomClient(TicketClient):
    def _http(self) -> HelpdeskHttp:
        c = self.connection
        token = require(c.secret("access_token"), "Intercom access token (access_token)")
        return HelpdeskHttp(
            c.setting("api_base") or API,
            name="Intercom",
            headers={"Authorization": f"Bearer {token}", "Intercom-Version": VERSION},
        )

    def _contact_id(self, http: HelpdeskHttp, draft: TicketDraft) -> str:
        found = http.json(
            "POST",
            "/contacts/search",
            json_body={
                "query": {"field": "email", "operator": "=", "value": draft.requester_email}
            },
            ok=(200,),
        )
        data = found.get("data") or []
        if data:
            return pick(data, 0, "id", name="Intercom", what="a contact id")
        created = http.json(
            "POST",
            "/contacts",
            json_body={
                "role": "user",
                "email": draft.requester_email,
                "name": draft.requester_name or None,
            },
            ok=(200, 201),
        )
        return pick(created, "id", name="Intercom", what="a contact id")

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        http = self._http()
        contact = self._contact_id(http, draft)
        message = http.json(
            "POST",
            "/conversations",
            json_body={
                "from": {"type": "user", "id": contact},
                "body": draft.message or draft.subject,
            },
            ok=(200, 201),
        )
        cid = pick(message, "conversation_id", name="Intercom", what="a conversation id")
        return TicketRef(ticket_id=cid)

    def note_add(self, ticket_id: str, note: Note) -> str:
        admin = require(self.connection.setting("admin_id"), "admin id (admin_id)")
        data = self._http().json(
            "POST",
            f"/conversations/{ticket_id}/reply",
            json_body={
                "message_type": "note",
                "type": "admin",
                "admin_id": admin,
                "body": note.html,
            },
            ok=(200,),
        )
        parts = ((data.get("conversation_parts") or {}).get("conversation_parts")) or []
        return str(parts[-1].get("id", "")) if parts and isinstance(parts[-1], dict) else ""

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"signed in as {data.get('email', '?')}")
