"""Help Scout Mailbox API 2.0: OAuth client credentials, create a conversation, add a note.

Reference: shared/reference/helpdesks.md §2.3. The new id comes back in ``Resource-ID``
(documented for notes) or as the last segment of ``Location``: both are read.
"""

from __future__ import annotations

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


class HelpScoutClient(TicketClient):
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
            "tags": list(draft.tags),
        }
        response = self._http().request("POST", "/v2/conversations", json_body=body, ok=(201,))
        cid = _new_id(response)
        return TicketRef(ticket_id=cid, url=f"https://secure.helpscout.net/conversation/{cid}/")

    def note_add(self, ticket_id: str, note: Note) -> str:
        response = self._http().request(
            "POST", f"/v2/conversations/{ticket_id}/notes", json_body={"text": note.html}, ok=(201,)
        )
        return _new_id(response)

    def check(self) -> ConnectionCheck:
        data = self._http().json("GET", "/v2/users/me", ok=(200,))
        return ConnectionCheck(ok=True, detail=f"signed in as {data.get('email', '?')}")
