"""Intercom REST API: find or create the contact, open a conversation, add a note, read the
conversation's parts.

Reference: shared/reference/helpdesks.md §3.2; ``Intercom-Version`` pinned to 2.11.
"""

from __future__ import annotations

from typing import Any

from billingdesk.core.html import html_to_text
from billingdesk.helpdesks.http import HelpdeskHttp, iso_from_unix, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)

API = "https://api.intercom.io"
VERSION = "2.11"
# Who writes as the customer: a user or a lead (a contact's two roles).
_CUSTOMER_AUTHORS = frozenset({"user", "lead", "contact"})
# Parts that carry words sent to or by the customer (``note`` is private; ``assignment``,
# ``open``, ``close``… are events).
_MESSAGE_PARTS = frozenset({"comment", "quick_reply"})


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

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /conversations/{id}``: the ``source`` (the opening message) then
        ``conversation_parts`` (oldest first), notes and events left out. Intercom does not
        page them: one answer holds the conversation's latest 500 parts.
        https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/conversations/retrieveconversation"""
        data = self._http().json("GET", f"/conversations/{ticket_id}", ok=(200,))
        messages: list[TicketMessage] = []
        source = data.get("source") or {}
        if isinstance(source, dict) and source.get("body"):
            messages.append(_message(source, data.get("created_at")))
        parts = (data.get("conversation_parts") or {}).get("conversation_parts") or []
        for part in parts:
            if not isinstance(part, dict) or part.get("part_type") not in _MESSAGE_PARTS:
                continue
            if part.get("body"):
                messages.append(_message(part, part.get("created_at")))
        return messages

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"signed in as {data.get('email', '?')}")


def _message(item: dict[str, Any], created_at: Any) -> TicketMessage:
    author = item.get("author") or {}
    return TicketMessage(
        author=str(author.get("email") or author.get("name") or ""),
        body=html_to_text(str(item.get("body") or "")),
        at=iso_from_unix(created_at),
        from_customer=author.get("type") in _CUSTOMER_AUTHORS,
    )
