"""FreeScout API & Webhooks module: conversations and note threads.

Reference: shared/reference/helpdesks.md §7.2 and disputes-sso-helpdesks.md §3.4. Auth header
``X-FreeScout-API-Key``; creates answer ``201`` with the new id in ``Resource-ID`` (or the
``Location`` header). Field names modelled on Help Scout (``mailboxId``, ``customer{email}``,
``threads[{type: customer, text}]``; a note thread ``{type: note, text, user}``) are
UNCONFIRMED in the reference (docs/helpdesks/freescout.md lists what is).
"""

from __future__ import annotations

from typing import Any

from billingdesk.core.errors import InvalidRequest
from billingdesk.core.html import html_to_text
from billingdesk.helpdesks.http import HelpdeskHttp, require, resource_id
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)


def _number(value: str, what: str) -> int:
    text = require(value, what)
    if not text.isdigit():
        raise InvalidRequest(f"The {what} must be a number.")
    return int(text)


class FreeScoutClient(TicketClient):
    def _base(self) -> str:
        base = require(self.connection.setting("base_url"), "FreeScout address (base_url)")
        return base.rstrip("/")

    def _http(self) -> HelpdeskHttp:
        key = require(self.connection.secret("api_key"), "FreeScout API key (api_key)")
        return HelpdeskHttp(
            f"{self._base()}/api", name="FreeScout", headers={"X-FreeScout-API-Key": key}
        )

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        mailbox = _number(
            self.connection.setting("mailbox_id"), "FreeScout mailbox id (mailbox_id)"
        )
        customer: dict[str, Any] = {"email": draft.requester_email}
        if draft.requester_name:
            first, _, last = draft.requester_name.partition(" ")
            customer.update({"firstName": first, "lastName": last})
        body = {
            "type": "email",
            "mailboxId": mailbox,
            "subject": draft.subject[:250] or "Billing question",
            "customer": customer,
            "threads": [
                {
                    "type": "customer",
                    "text": draft.message or draft.subject,
                    "customer": {"email": draft.requester_email},
                }
            ],
            "tags": list(draft.tags),
        }
        response = self._http().request("POST", "/conversations", json_body=body, ok=(201,))
        cid = resource_id(response, "FreeScout")
        return TicketRef(ticket_id=cid, url=f"{self._base()}/conversation/{cid}")

    def note_add(self, ticket_id: str, note: Note) -> str:
        user = _number(self.connection.setting("user_id"), "FreeScout user id (user_id)")
        body = {"type": "note", "text": note.html, "user": user}
        response = self._http().request(
            "POST", f"/conversations/{ticket_id}/threads", json_body=body, ok=(201,)
        )
        return resource_id(response, "FreeScout")

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /api/conversations/{id}?embed=threads``: the conversation's threads (newest
        first in FreeScout, re-sorted oldest first); notes, line items and drafts left out;
        a ``customer`` thread is the customer's. Field names modelled on Help Scout's, as the
        rest of this client (UNCONFIRMED, docs/helpdesks/freescout.md)."""
        data = self._http().json(
            "GET", f"/conversations/{ticket_id}", params={"embed": "threads"}, ok=(200,)
        )
        embedded = data.get("_embedded") if isinstance(data, dict) else None
        threads = embedded.get("threads") if isinstance(embedded, dict) else None
        messages = []
        for row in threads if isinstance(threads, list) else []:
            if not isinstance(row, dict) or row.get("type") not in ("customer", "message"):
                continue
            if row.get("state") == "draft":
                continue
            author = row.get("createdBy") or row.get("customer") or {}
            messages.append(
                TicketMessage(
                    author=str(author.get("email") or "") if isinstance(author, dict) else "",
                    body=html_to_text(str(row.get("body") or row.get("text") or "")),
                    at=str(row.get("createdAt") or ""),
                    from_customer=row.get("type") == "customer",
                )
            )
        return sorted(messages, key=lambda m: m.at)

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/mailboxes", ok=(200,))
        embedded = data.get("_embedded") if isinstance(data, dict) else None
        boxes = embedded.get("mailboxes") if isinstance(embedded, dict) else None
        count = len(boxes) if isinstance(boxes, list) else 0
        return ConnectionCheck(ok=True, detail=f"{count} mailbox(es) visible")
