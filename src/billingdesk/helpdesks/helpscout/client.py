"""Help Scout Mailbox API 2.0: OAuth client credentials, create a conversation, add a note.

Reference: shared/reference/helpdesks.md §2.3. The new id comes back in ``Resource-ID``
(documented for notes) or as the last segment of ``Location``: both are read.
"""

from __future__ import annotations

import base64
import hashlib

import requests

from billingdesk.core.errors import GatewayUnavailable
from billingdesk.helpdesks.http import HelpdeskHttp, pick, require
from billingdesk.helpdesks.interface import (
    ConnectionCheck,
    Note,
    TicketClient,
    TicketDraft,
    TicketRef,
)

API = "https://api.helpscout.net"


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

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/v2/users/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"signed in as {data.get('email', '?')}")
