"""The reference connector's read side: backfill pages and signed webhooks.

Listing is paged with an opaque cursor (here an offset; a real gateway's is usually the last
id seen), ``next_cursor`` is None on the last page. Webhooks carry a ``t=…,v1=…`` HMAC-SHA256
header (``billingdesk.core.signing``, checked in constant time, 300 s tolerance either way);
an event is ``{"id", "type": "<kind>.<verb>", "data": <object>}`` and types about kinds the
mirror does not keep are accepted and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils import timezone

from billingdesk.core.errors import InvalidRequest, MalformedPayload
from billingdesk.core.signing import sign_header, verify_header
from billingdesk.gateways import interface as gw
from billingdesk.gateways.reference.actions import ReferenceActions
from billingdesk.gateways.reference.mapping import from_json, kind_of, to_json


class ReferenceConnector(ReferenceActions):
    kind = "reference"
    display_name = "Reference gateway"
    capabilities = frozenset(
        {
            gw.Capability.BACKFILL,
            gw.Capability.WEBHOOKS,
            gw.Capability.REFUND,
            gw.Capability.PARTIAL_REFUND,
            gw.Capability.CAPTURE,
            gw.Capability.PARTIAL_CAPTURE,
            gw.Capability.VOID,
        }
    )
    credential_fields = ("api_key",)
    signature_header = "X-Reference-Signature"
    page_size: ClassVar[int] = 100

    # --- backfill -------------------------------------------------------------------------
    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        try:
            start = int(cursor or 0)
        except ValueError:
            raise InvalidRequest(f"{cursor!r} is not a reference-gateway cursor") from None
        items, more = self.client.list_objects(kind, offset=start, limit=self.page_size)
        return gw.Page(objects=items, next_cursor=str(start + len(items)) if more else None)

    def estimate_total(self, kind: gw.ObjectKind) -> int | None:
        return self.client.count(kind)

    # --- webhooks -------------------------------------------------------------------------
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        verify_header(
            headers.get(self.signature_header.lower()), body, self.account.webhook_secret or ""
        )

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        event = _load_event(body)
        return gw.EventEnvelope(id=event["id"], type=event["type"])

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        event = _load_event(body)
        if kind_of(event["type"]) is None:
            return gw.ParsedEvent(
                id=event["id"], type=event["type"], created=timezone.now(), objects=[]
            )
        try:
            obj = from_json(event["data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"cannot read event object: {exc}") from exc
        return gw.ParsedEvent(
            id=event["id"], type=event["type"], created=obj.updated, objects=[obj]
        )

    # --- what the vendor side does (tests and demos) --------------------------------------
    @classmethod
    def event_body(cls, event_id: str, obj: gw.GatewayObject, *, event_type: str = "") -> bytes:
        """The body the reference service sends for a change to ``obj``."""
        return json.dumps(
            {
                "id": event_id,
                "type": event_type or f"{obj.kind.value}.updated",
                "data": to_json(obj),
            }
        ).encode()

    @classmethod
    def sign(cls, body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
        """The headers the reference service sends with ``body``."""
        return {cls.signature_header: sign_header(body, secret, timestamp=timestamp)}


def _load_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("webhook body is not JSON") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not event["id"]
    ):
        raise MalformedPayload("not a reference-gateway event")
    return event
