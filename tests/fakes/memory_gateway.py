"""A minimal gateway held in memory, for testing the gateway-neutral sync engine.

It implements the Connector contract the way a real connector does (paged listing with an
opaque cursor, signed webhooks verified in constant time, events parsed into the interface
dataclasses) but keeps its objects in a dict, so tests can shape any history they need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, ClassVar

from billingdesk.core.errors import MalformedPayload
from billingdesk.core.signing import sign_header, verify_header
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount

_CLASSES: dict[str, type[gw.GatewayObject]] = {
    cls.kind.value: cls
    for cls in (
        gw.GwCustomer,
        gw.GwPaymentMethod,
        gw.GwCharge,
        gw.GwRefund,
        gw.GwSubscription,
        gw.GwInvoice,
        gw.GwCoupon,
        gw.GwDiscount,
        gw.GwTaxId,
        gw.GwDispute,
    )
}
_DATETIME_FIELDS = {
    "updated",
    "created",
    "current_period_start",
    "current_period_end",
    "canceled_at",
    "ended_at",
    "trial_start",
    "trial_end",
    "due_date",
    "period_start",
    "period_end",
    "start",
    "end",
    "evidence_due_by",
}

# account id -> kind -> list of objects, in listing order
STORE: dict[str, dict[gw.ObjectKind, list[gw.GatewayObject]]] = {}


def to_json(obj: gw.GatewayObject) -> dict[str, Any]:
    data = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "raw"}
    data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
    data["object"] = obj.kind.value
    return data


def from_json(data: Mapping[str, Any]) -> gw.GatewayObject:
    cls = _CLASSES[data["object"]]
    values = {k: v for k, v in data.items() if k != "object"}
    for name in _DATETIME_FIELDS & values.keys():
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return cls(raw=dict(data), **values)


def event_body(event_id: str, obj: gw.GatewayObject, *, event_type: str = "") -> bytes:
    return json.dumps(
        {"id": event_id, "type": event_type or f"{obj.kind.value}.updated", "data": to_json(obj)}
    ).encode()


def signed_headers(account: GatewayAccount, body: bytes, **extra: str) -> dict[str, str]:
    return {"HTTP_X_MEMORY_SIGNATURE": sign_header(body, account.webhook_secret), **extra}


class MemoryConnector(gw.Connector):
    kind = "memory"
    display_name = "Memory (tests)"
    capabilities = frozenset({gw.Capability.BACKFILL, gw.Capability.WEBHOOKS})
    page_size: ClassVar[int] = 100
    list_calls: ClassVar[int] = 0

    def _objects(self, kind: gw.ObjectKind) -> list[gw.GatewayObject]:
        return STORE.get(str(self.account.pk), {}).get(kind, [])

    def check_credentials(self) -> None:
        return None

    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        type(self).list_calls += 1
        start = int(cursor or 0)
        items = self._objects(kind)[start : start + self.page_size]
        end = start + len(items)
        more = end < len(self._objects(kind))
        return gw.Page(objects=list(items), next_cursor=str(end) if more else None)

    def estimate_total(self, kind: gw.ObjectKind) -> int | None:
        return len(self._objects(kind))

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        verify_header(headers.get("x-memory-signature"), body, self.account.webhook_secret)

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        try:
            data = json.loads(body)
            return gw.EventEnvelope(id=str(data["id"]), type=str(data["type"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPayload(f"not a memory-gateway event: {exc}") from exc

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        data = json.loads(body)
        try:
            obj = from_json(data["data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedPayload(f"cannot read event object: {exc}") from exc
        return gw.ParsedEvent(id=data["id"], type=data["type"], created=obj.updated, objects=[obj])


def as_dict(obj: gw.GatewayObject) -> dict[str, Any]:
    return asdict(obj)
