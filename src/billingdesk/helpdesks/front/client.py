"""Front Core API: import the customer's message into a shared inbox, add a comment, read the
conversation's messages.

Reference: shared/reference/helpdesks.md §5.2. The import answers ``202`` with a message uid; the
conversation id is read from ``GET /messages/{uid}`` (``_links.related.conversation``), retried
briefly while the import is processed (shape UNCONFIRMED, see the reference §9).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from billingdesk.core.errors import GatewayUnavailable, NotFound
from billingdesk.core.html import html_to_text
from billingdesk.helpdesks.http import HelpdeskHttp, form_fields, iso_from_unix, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)

API = "https://api2.frontapp.com"
LOOKUPS = 5
_PAGE_LIMIT = 100  # messages a page (Front's maximum ``limit``)
_MAX_PAGES = 50


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

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /conversations/{id}/messages`` (``_results``, newest first, the next page at
        ``_pagination.next``), put oldest first. Comments (private) are another endpoint, so
        never here; drafts are left out. ``is_inbound`` is the customer writing.
        https://dev.frontapp.com/reference/list-conversation-messages"""
        http = self._http()
        url = f"/conversations/{ticket_id}/messages"
        params: dict[str, str] | None = {"limit": str(_PAGE_LIMIT)}
        found: list[tuple[float, int, TicketMessage]] = []
        for _page in range(_MAX_PAGES):
            data = http.json("GET", url, params=params, ok=(200,))
            for row in data.get("_results") or []:
                if not isinstance(row, dict) or row.get("is_draft"):
                    continue
                inbound = bool(row.get("is_inbound"))
                body = str(row.get("text") or "") or html_to_text(str(row.get("body") or ""))
                message = TicketMessage(
                    author=_front_author(row, inbound),
                    body=body,
                    at=iso_from_unix(row.get("created_at")),
                    from_customer=inbound,
                )
                found.append((_seconds(row.get("created_at")), -len(found), message))
            url = str((data.get("_pagination") or {}).get("next") or "")
            params = None  # the next page's URL carries its own query (``page_token``)
            if not url:
                break
        return [m for _at, _i, m in sorted(found, key=lambda f: (f[0], f[1]))]

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"token of {data.get('name', '?')}")


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _front_author(row: dict[str, Any], inbound: bool) -> str:
    """The sender's handle (the ``from`` recipient); for an agent's reply, the teammate."""
    teammate = row.get("author") if not inbound else None
    if isinstance(teammate, dict) and teammate.get("email"):
        return str(teammate["email"])
    for recipient in row.get("recipients") or []:
        if isinstance(recipient, dict) and recipient.get("role") == "from":
            return str(recipient.get("handle") or recipient.get("name") or "")
    return ""
