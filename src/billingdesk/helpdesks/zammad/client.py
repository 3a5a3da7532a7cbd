"""Zammad REST API: a ticket with its first article, internal note articles.

Reference: shared/reference/helpdesks.md §7.3 and disputes-sso-helpdesks.md §3.3.
Auth header ``Authorization: Token token=<access token>``. ``POST /api/v1/tickets`` takes the
first message as its ``article``; ``customer_id: "guess:<email>"`` finds or creates the
customer. A note is ``POST /api/v1/ticket_articles`` with ``type: note, internal: true``.
Not confirmed from the reference (docs/helpdesks/zammad.md): the error body beyond its
``error``/``error_human`` fields, tags on create, and attachments on articles (so none are
sent: ``attachment_limit`` 0).
"""

from __future__ import annotations

from typing import Any

from billingdesk.core.html import html_to_text
from billingdesk.helpdesks.http import HelpdeskHttp, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketMessage,
    TicketRef,
)

DEFAULT_GROUP = "Users"  # the group a fresh Zammad has


class ZammadClient(TicketClient):
    def _base(self) -> str:
        return require(self.connection.setting("base_url"), "Zammad address (base_url)").rstrip("/")

    def _http(self) -> HelpdeskHttp:
        token = require(self.connection.secret("api_token"), "Zammad access token (api_token)")
        return HelpdeskHttp(
            f"{self._base()}/api/v1",
            name="Zammad",
            headers={"Authorization": f"Token token={token}"},
        )

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        body: dict[str, Any] = {
            "title": draft.subject[:250] or "Billing question",
            "group": self.connection.setting("group") or DEFAULT_GROUP,
            "customer_id": f"guess:{draft.requester_email}",
            "article": {
                "subject": draft.subject[:250],
                "body": draft.message or draft.subject,
                "content_type": "text/plain",
                "type": "note",
                "internal": False,
            },
        }
        data = self._http().json("POST", "/tickets", json_body=body, ok=(200, 201))
        tid = pick(data, "id", name="Zammad", what="a ticket id")
        return TicketRef(ticket_id=tid, url=f"{self._base()}/#ticket/zoom/{tid}")

    def note_add(self, ticket_id: str, note: Note) -> str:
        body = {
            "ticket_id": int(ticket_id) if ticket_id.isdigit() else ticket_id,
            "subject": "Billing context",
            "body": note.html,
            "content_type": "text/html",
            "type": "note",
            "internal": True,
        }
        data = self._http().json("POST", "/ticket_articles", json_body=body, ok=(200, 201))
        return str(data.get("id", "")) if isinstance(data, dict) else ""

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /api/v1/ticket_articles/by_ticket/{id}``: every article of the ticket, oldest
        first (Zammad gives them all at once); internal ones (notes) are left out, and
        ``sender`` "Customer" marks the customer's. HTML bodies are read as text."""
        rows = self._http().json("GET", f"/ticket_articles/by_ticket/{ticket_id}", ok=(200,))
        messages = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or row.get("internal") is not False:
                continue  # an internal note (or an article that does not say: not quoted)
            body = str(row.get("body") or "")
            if str(row.get("content_type") or "").startswith("text/html"):
                body = html_to_text(body)
            messages.append(
                TicketMessage(
                    author=str(row.get("from") or row.get("created_by") or ""),
                    body=body,
                    at=str(row.get("created_at") or ""),
                    from_customer=str(row.get("sender") or "") == "Customer",
                )
            )
        return sorted(messages, key=lambda m: m.at)

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/users/me", ok=(200,))
        who = str(data.get("email") or data.get("login") or "") if isinstance(data, dict) else ""
        return ConnectionCheck(ok=True, detail=f"signed in as {who or 'the token owner'}")
