"""Help Scout Mailbox API 2.0: OAuth client credentials, create a conversation, add a note,
read its threads.

Reference: shared/reference/helpdesks.md §2.3. The new id comes back in ``Resource-ID``
(documented for notes) or as the last segment of ``Location``: both are read.
"""

from __future__ import annotations

import base64
import hashlib

import requests

from billingdesk.core.errors import GatewayUnavailable
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

API = "https://api.helpscout.net"
# Threads written to or by the customer; ``note`` (private) and ``lineitem`` (status changes,
# assignments) are not messages. A conversation holds at most 100 threads (reference §2.3).
_MESSAGE_THREADS = frozenset({"customer", "message", "reply", "chat", "phone"})
_MAX_THREAD_PAGES = 20


def _new_id(response: requests.Response) -> str:
    rid = response.headers.get("Resource-ID", "").strip()
    if not rid:
        rid = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    if not rid:
        raise GatewayUnavailable("Help Scout answered without the new resource's id.")
    return rid


def marker_tag(external_id: str) -> str:
    """The tag that finds a conversation again by our key (tags are short, lower case)."""
    return "bd-" + hashlib.sha256(external_id.encode()).hexdigest()[:20]


class HelpScoutClient(TicketClient):
    attachment_limit = 10 * 2**20  # UNCONFIRMED: Help Scout's documented per-file limit

    def _http(self) -> HelpdeskHttp:
        c = self.connection
        base = c.setting("api_base") or API
        token_http = HelpdeskHttp(base, name="Help Scout")
        data = token_http.json(
            "POST",
            "/v2/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": require(c.setting("app_id"), "OAuth app id (app_id)"),
                "client_secret": require(c.secret("app_secret"), "OAuth app secret (app_secret)"),
            },
            ok=(200,),
        )
        token = pick(data, "access_token", name="Help Scout", what="an access token")
        return HelpdeskHttp(base, name="Help Scout", headers={"Authorization": f"Bearer {token}"})

    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        mailbox = require(self.connection.setting("mailbox_id"), "mailbox id (mailbox_id)")
        customer = {"email": draft.requester_email}
        if draft.requester_name:
            first, _, last = draft.requester_name.partition(" ")
            customer.update({"firstName": first, "lastName": last})
        body = {
            "subject": draft.subject,
            "customer": customer,
            "mailboxId": int(mailbox) if mailbox.isdigit() else mailbox,
            "type": "email",
            "status": "active",
            "imported": True,
            "threads": [
                {
                    "type": "customer",
                    "customer": {"email": draft.requester_email},
                    "text": draft.message or draft.subject,
                }
            ],
            "tags": list(draft.tags)
            + ([marker_tag(draft.external_id)] if draft.external_id else []),
        }
        response = self._http().request("POST", "/v2/conversations", json_body=body, ok=(201,))
        cid = _new_id(response)
        return TicketRef(ticket_id=cid, url=f"https://secure.helpscout.net/conversation/{cid}/")

    def ticket_find(self, draft: TicketDraft) -> TicketRef | None:
        if not draft.external_id:
            return None
        mailbox = require(self.connection.setting("mailbox_id"), "mailbox id (mailbox_id)")
        data = self._http().json(
            "GET",
            "/v2/conversations",
            params={"mailbox": mailbox, "tag": marker_tag(draft.external_id), "status": "all"},
            ok=(200,),
        )
        found = (data.get("_embedded") or {}).get("conversations") or []
        if not found:
            return None
        cid = pick(found, 0, "id", name="Help Scout", what="a conversation id")
        url = f"https://secure.helpscout.net/conversation/{cid}/"
        return TicketRef(ticket_id=cid, url=url, created=False)

    def note_add(self, ticket_id: str, note: Note) -> str:
        body: dict[str, object] = {"text": note.html}
        if note.attachments:
            body["attachments"] = [
                {
                    "fileName": a.filename,
                    "mimeType": a.content_type or "application/octet-stream",
                    "data": base64.b64encode(a.data).decode(),
                }
                for a in note.attachments
            ]
        response = self._http().request(
            "POST", f"/v2/conversations/{ticket_id}/notes", json_body=body, ok=(201,)
        )
        return _new_id(response)

    def ticket_messages(self, ticket_id: str) -> list[TicketMessage]:
        """``GET /v2/conversations/{id}/threads`` (HAL ``_embedded.threads``, newest first,
        ``?page=N`` up to ``page.totalPages``): published customer and agent threads, put
        oldest first; ``createdBy.type`` ``customer`` is the customer.
        https://developer.helpscout.com/mailbox-api/endpoints/conversations/threads/list/"""
        http = self._http()
        found: list[tuple[str, int, TicketMessage]] = []
        page = 1
        while page <= _MAX_THREAD_PAGES:
            path = f"/v2/conversations/{ticket_id}/threads"
            data = http.json("GET", path, params={"page": str(page)}, ok=(200,))
            threads = (data.get("_embedded") or {}).get("threads") or []
            for thread in threads:
                if not isinstance(thread, dict) or thread.get("type") not in _MESSAGE_THREADS:
                    continue
                if thread.get("state", "published") != "published":
                    continue  # a draft or a hidden thread was never sent
                by = thread.get("createdBy") or {}
                name = " ".join(str(by.get(k) or "") for k in ("first", "last")).strip()
                at = str(thread.get("createdAt") or "")
                message = TicketMessage(
                    author=str(by.get("email") or name),
                    body=html_to_text(str(thread.get("body") or "")),
                    at=at,
                    from_customer=by.get("type") == "customer",
                )
                found.append((at, -len(found), message))
            total = int((data.get("page") or {}).get("totalPages") or 1)
            if page >= total:
                break
            page += 1
        # Newest first within and across pages: the reverse of the order listed is the order
        # written (ties kept in that reversed order).
        return [m for _at, _i, m in sorted(found, key=lambda f: (f[0], f[1]))]

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/v2/users/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"signed in as {data.get('email', '?')}")
