"""Chatwoot Application API: contact, conversation, private message, the conversation's messages.

Reference: shared/reference/helpdesks.md §7.1. Auth header ``api_access_token``. The contact
create answer's shape (``payload.contact`` / ``payload.contact_inbox.source_id``) is
UNCONFIRMED: both the wrapped and the bare shapes are read; an existing contact (422) is
found by search and given an inbox.
"""

from __future__ import annotations

from typing import Any

from billingdesk.core.errors import InvalidRequest
from billingdesk.helpdesks.http import HelpdeskHttp, form_fields, iso_from_unix, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)

KEY_ATTRIBUTE = "billingdesk_key"  # the conversation's custom attribute holding our key
# ``message_type`` as the messages list gives it (a number) or as named: incoming (from the
# contact) and outgoing (an agent's); activity (2) and template (3) are not messages.
_INCOMING = (0, "incoming")
_OUTGOING = (1, "outgoing")
_MAX_PAGES = 100  # 20 messages a page


def _unwrap(data: Any) -> Any:
    return data.get("payload", data) if isinstance(data, dict) else data


class ChatwootClient(TicketClient):
    attachment_limit = 40 * 2**20  # UNCONFIRMED: Chatwoot's default maximum upload size

    def _http(self) -> HelpdeskHttp:
        c = self.connection
        base = require(c.setting("base_url"), "Chatwoot address (base_url)")
        account = require(c.setting("account_id"), "Chatwoot account id (account_id)")
        token = require(c.secret("api_access_token"), "Chatwoot access token (api_access_token)")
        return HelpdeskHttp(
            f"{base.rstrip('/')}/api/v1/accounts/{account}",
            name="Chatwoot",
            headers={"api_access_token": token},
        )

    def _contact(self, http: HelpdeskHttp, inbox: int, draft: TicketDraft) -> tuple[str, str]:
        """(contact id, source id of its contact inbox)."""
        try:
            created = _unwrap(
                http.json(
                    "POST",
                    "/contacts",
                    json_body={
                        "inbox_id": inbox,
                        "name": draft.requester_name or draft.requester_email,
                        "email": draft.requester_email,
                    },
                    ok=(200, 201),
                )
            )
        except InvalidRequest:
            found = _unwrap(
                http.json("GET", "/contacts/search", params={"q": draft.requester_email}, ok=(200,))
            )
            contact_id = pick(found, 0, "id", name="Chatwoot", what="the existing contact")
            ci = http.json(
                "POST",
                f"/contacts/{contact_id}/contact_inboxes",
                json_body={"inbox_id": inbox},
                ok=(200, 201),
            )
            return contact_id, pick(_unwrap(ci), "source_id", name="Chatwoot", what="a source id")
        contact = created.get("contact", created) if isinstance(created, dict) else {}
        contact_id = pick(contact, "id", name="Chatwoot", what="a contact id")
        inbox_link = created.get("contact_inbox") or {}
        source = inbox_link.get("source_id") if isinstance(inbox_link, dict) else None
        if not source:
            inboxes = contact.get("contact_inboxes") or []
            source = (
                inboxes[0].get("source_id") if inboxes and isinstance(inboxes[0], dict) else None
            )
        return contact_id, pick({"s": source}, "s", name="Chatwoot", what="a source id")

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        inbox_text = require(self.connection.setting("inbox_id"), "Chatwoot inbox id (inbox_id)")
        if not inbox_text.isdigit():
            raise InvalidRequest("The Chatwoot inbox id must be a number.")
        inbox = int(inbox_text)
        http = self._http()
        contact_id, source_id = self._contact(http, inbox, draft)
        body: dict[str, Any] = {
            "source_id": source_id,
            "inbox_id": inbox,
            "contact_id": int(contact_id) if contact_id.isdigit() else contact_id,
            "status": "open",
            "message": {"content": draft.message or draft.subject},
        }
        if draft.external_id:  # found again by ``ticket_find`` after a crash
            body["custom_attributes"] = {KEY_ATTRIBUTE: draft.external_id}
        conv = http.json("POST", "/conversations", json_body=body, ok=(200, 201))
        cid = pick(conv, "id", name="Chatwoot", what="a conversation id")
        base = self.connection.setting("base_url").rstrip("/")
        account = self.connection.setting("account_id")
        return TicketRef(ticket_id=cid, url=f"{base}/app/accounts/{account}/conversations/{cid}")

    def ticket_find(self, draft: TicketDraft) -> TicketRef | None:
        """The contact's conversations (``GET /contacts/{id}/conversations``) searched for
        the one whose custom attribute holds our key."""
        if not draft.external_id:
            return None
        http = self._http()
        found = _unwrap(
            http.json("GET", "/contacts/search", params={"q": draft.requester_email}, ok=(200,))
        )
        contacts = [c for c in found or [] if isinstance(c, dict) and c.get("id")]
        base = self.connection.setting("base_url").rstrip("/")
        account = self.connection.setting("account_id")
        for contact in contacts:
            listed = _unwrap(
                http.json("GET", f"/contacts/{contact['id']}/conversations", ok=(200,))
            )
            for conv in listed or []:
                if not isinstance(conv, dict):
                    continue
                attributes = conv.get("custom_attributes") or {}
                if (
                    isinstance(attributes, dict)
                    and attributes.get(KEY_ATTRIBUTE) == draft.external_id
                ):
                    cid = str(conv["id"])
                    url = f"{base}/app/accounts/{account}/conversations/{cid}"
                    return TicketRef(ticket_id=cid, url=url, created=False)
        return None

    def note_add(self, ticket_id: str, note: Note) -> str:
        body = {"content": note.markdown, "message_type": "outgoing", "private": True}
        path = f"/conversations/{ticket_id}/messages"
        if note.attachments:  # files need a multipart form (``attachments[]``)
            files = [
                (
                    "attachments[]",
                    (a.filename, a.data, a.content_type or "application/octet-stream"),
                )
                for a in note.attachments
            ]
            data = self._http().json(
                "POST", path, data=form_fields(body), files=files, ok=(200, 201)
            )
        else:
            data = self._http().json("POST", path, json_body=body, ok=(200, 201))
        return str(data.get("id", ""))

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /conversations/{id}/messages``: the latest 20 (``payload``, oldest first),
        then ``?before=<the oldest id seen>`` until a page comes back empty; private notes
        and activity messages left out.
        https://developers.chatwoot.com/api-reference/messages/get-messages"""
        http = self._http()
        path = f"/conversations/{ticket_id}/messages"
        pages: list[list[TicketMessage]] = []
        before = ""
        for _page in range(_MAX_PAGES):
            data = http.json("GET", path, params={"before": before} if before else None, ok=(200,))
            rows = [
                r for r in _unwrap(data) or [] if isinstance(r, dict) and str(r.get("id")).isdigit()
            ]
            if not rows:
                break
            page: list[TicketMessage] = []
            for row in rows:
                kind = row.get("message_type")
                if row.get("private") or kind not in (*_INCOMING, *_OUTGOING):
                    continue
                sender = row.get("sender") or {}
                page.append(
                    TicketMessage(
                        author=str(sender.get("email") or sender.get("name") or ""),
                        body=str(row.get("content") or ""),
                        at=iso_from_unix(row.get("created_at")),
                        from_customer=kind in _INCOMING,
                    )
                )
            pages.append(page)
            oldest = min(int(r["id"]) for r in rows)
            if before and oldest >= int(before):
                break  # the helpdesk ignored ``before``: stop rather than loop
            before = str(oldest)
        return [message for page in reversed(pages) for message in page]

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/inboxes", ok=(200,))
        inboxes = _unwrap(data)
        count = len(inboxes) if isinstance(inboxes, list) else 0
        return ConnectionCheck(ok=True, detail=f"{count} inbox(es) visible")
