"""Front Core API: import the customer's message into a shared inbox, add a comment.

Reference: shared/reference/helpdesks.md §5.2. The import answers ``202`` with a message uid; the
conversation id is read from ``GET /messages/{uid}`` (``_links.related.conversation``), retried
briefly while the import is processed (shape UNCONFIRMED, see the reference §9).
"""

from __future__ import annotations

import time
import uuid

from billingdesk.core.errors import GatewayUnavailable, NotFound
from billingdesk.helpdesks.http import HelpdeskHttp, form_fields, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)

API = "https://api2.frontapp.com"
LOOKUPS = 5


class FrontClient(TicketClient):
    # Front's attachment limit (25 MB a message). Its import is idempotent by external_id
    # itself, so a create retried after a crash finds the same conversation: no ticket_find.
    attachment_limit = 25 * 2**20

    def _http(self) -> HelpdeskHttp:
        c = self.connection
        token = require(c.secret("api_token"), "Front API token (api_token)")
        return HelpdeskHttp(
            c.setting("api_base") or API, name="Front", headers={"Authorization": f"Bearer {token}"}
        )

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        inbox = require(self.connection.setting("inbox_id"), "inbox id (inbox_id)")
        http = self._http()
        body = {
            "sender": {"handle": draft.requester_email, "name": draft.requester_name or None},
            "to": [self.connection.setting("inbox_address") or draft.requester_email],
            "subject": draft.subject,
            "body": draft.message or draft.subject,
            "body_format": "markdown",
            # Front never imports two messages with one external id: natural idempotency.
            "external_id": draft.external_id or uuid.uuid4().hex,
            "created_at": int(time.time()),
            "type": "email",
            "tags": list(draft.tags),
            "metadata": {"is_inbound": True, "should_skip_rules": False},
        }
        accepted = http.json(
            "POST", f"/inboxes/{inbox}/imported_messages", json_body=body, ok=(200, 202)
        )
        uid = pick(accepted, "message_uid", name="Front", what="a message uid")
        for attempt in range(LOOKUPS):
            try:
                message = http.json("GET", f"/messages/{uid}", ok=(200,))
            except NotFound:
                time.sleep(0.2 * (attempt + 1))
                continue
            link = pick(
                message, "_links", "related", "conversation", name="Front", what="a conversation"
            )
            cid = link.rstrip("/").rsplit("/", 1)[-1]
            return TicketRef(ticket_id=cid, url=f"https://app.frontapp.com/open/{cid}")
        raise GatewayUnavailable("Front has not finished importing the message; try again shortly.")

    def note_add(self, ticket_id: str, note: Note) -> str:
        path = f"/conversations/{ticket_id}/comments"
        if note.attachments:  # files need a multipart form (``attachments[0]``…)
            files = [
                (
                    f"attachments[{i}]",
                    (a.filename, a.data, a.content_type or "application/octet-stream"),
                )
                for i, a in enumerate(note.attachments)
            ]
            data = self._http().json(
                "POST", path, data=form_fields({"body": note.markdown}), files=files, ok=(200, 201)
            )
        else:
            data = self._http().json("POST", path, json_body={"body": note.markdown}, ok=(200, 201))
        return str(data.get("id", ""))

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"token of {data.get('name', '?')}")
