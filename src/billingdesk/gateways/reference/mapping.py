"""The reference service's JSON <-> the interface dataclasses.

A real connector's mapping reads the vendor's documented payloads (link the document); the
reference service speaks the interface's own field names, so its mapping is the identity
plus JSON types (ISO 8601 datetimes, an ``object`` field naming the kind).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from billingdesk.gateways import interface as gw

OBJECT_CLASSES: dict[str, type[gw.GatewayObject]] = {
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
_CLASSES = OBJECT_CLASSES
_DATETIME_FIELDS = frozenset(
    {
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
)


def to_json(obj: gw.GatewayObject) -> dict[str, Any]:
    data = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name != "raw"}
    data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
    data["object"] = obj.kind.value
    return data


def from_json(data: Mapping[str, Any]) -> gw.GatewayObject:
    """One object; ``KeyError``/``TypeError``/``ValueError`` when the payload is not one."""
    cls = _CLASSES[data["object"]]
    values = {k: v for k, v in data.items() if k != "object"}
    for name in _DATETIME_FIELDS & values.keys():
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return cls(raw=dict(data), **values)


def kind_of(event_type: str) -> gw.ObjectKind | None:
    """The mirrored kind an event type is about (``charge.updated`` -> charge), if any."""
    head = event_type.partition(".")[0]
    return gw.ObjectKind(head) if head in _CLASSES else None
