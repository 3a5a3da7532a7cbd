"""Push (scope ``push``): the merchant's own records into a custom gateway account.

``POST /push/{account}`` takes up to 1,000 objects of any kinds in one call, each keyed by
the merchant's own ``id`` and stamped with ``updated``: an object already mirrored is updated
(``duplicate=update``), the same push twice changes nothing, and an older ``updated`` never
overwrites a newer one. The call is all-or-nothing: if any object is unreadable, nothing is
written and each bad object is reported by its index.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from enum import StrEnum
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from billingdesk.api.v1.auth import PUSH
from billingdesk.api.v1.errors import ERRORS, error
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.reference.mapping import OBJECT_CLASSES as _CLASSES
from billingdesk.gateways.reference.mapping import from_json

router = Router(auth=PUSH, tags=["push"])
MAX_OBJECTS = 1000
_REQUIRED = {"id", "updated", "object"}


class PushIn(Schema):
    objects: list[dict[str, Any]] = Field(..., min_length=1, max_length=MAX_OBJECTS)


class PushOut(Schema):
    created: int
    updated: int
    unchanged: int
    stale: int


def push_objects(account: GatewayAccount, items: list[dict[str, Any]]) -> dict[str, int]:
    """Read every item, then write them all in one transaction; ``PushRefused`` lists errors."""
    objects: list[gw.GatewayObject] = []
    problems: list[dict[str, str]] = []
    for index, item in enumerate(items):
        try:
            objects.append(_object(item))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append({"field": f"objects.{index}", "message": _why(exc)})
    if problems:
        raise PushRefused(problems)
    result = mirror_upsert(account=account, objects=objects)
    return {"created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "stale": result.stale}  # fmt: skip


class PushRefused(Exception):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("push refused")
        self.problems = problems


_STATUSES: dict[type[gw.GatewayObject], type[StrEnum]] = {
    gw.GwCharge: gw.ChargeStatus, gw.GwRefund: gw.RefundStatus,
    gw.GwSubscription: gw.SubscriptionStatus, gw.GwInvoice: gw.InvoiceStatus,
    gw.GwDispute: gw.DisputeStatus,
}  # fmt: skip
# What each annotation of the interface dataclasses accepts in JSON (datetimes are text).
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "str | None": (str, type(None)), "int": (int,),
    "int | None": (int, type(None)), "bool": (bool,), "datetime": (str,),
    "datetime | None": (str, type(None)),
}  # fmt: skip


def _object(item: dict[str, Any]) -> gw.GatewayObject:
    missing = sorted(_REQUIRED - item.keys())
    if missing:
        raise KeyError(", ".join(missing))
    if not isinstance(item["id"], str) or not 0 < len(item["id"]) <= 255:
        raise ValueError("id must be a string of 1 to 255 characters")
    cls = _CLASSES.get(item["object"]) if isinstance(item["object"], str) else None
    if cls is None:
        raise ValueError(f"object must be one of {', '.join(sorted(_CLASSES))}")
    known = {f.name: f for f in fields(cls) if f.name != "raw"}
    for name, value in item.items():
        if name == "object":
            continue
        field = known.get(name)
        if field is None:
            raise ValueError(f"{name}: not a field of a {item['object']}")
        allowed = _TYPES.get(str(field.type), (str, int, type(None)))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f"{name}: expected {field.type}")
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**62) < value < 2**62:
            raise ValueError(f"{name}: out of range")
        if isinstance(value, str) and len(value) > 1000:
            raise ValueError(f"{name}: longer than 1000 characters")
    obj = from_json(item)
    for name in ("updated", "created"):
        value = getattr(obj, name)
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must carry a time zone (e.g. 2026-01-05T09:00:00+00:00)")
    currency = getattr(obj, "currency", "")
    if currency and (len(currency) != 3 or not currency.isascii() or not currency.isalpha()):
        raise ValueError("currency must be an ISO 4217 code")
    enum = _STATUSES.get(cls)
    if enum is not None and obj.status not in enum.__members__.values():  # type: ignore[attr-defined]
        raise ValueError(f"status must be one of {', '.join(e.value for e in enum)}")
    return obj


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing or unknown: {exc.args[0] if exc.args else exc}"
    return str(exc)[:300] or type(exc).__name__


@router.post(
    "/push/{account_id}", response={200: PushOut, **ERRORS}, summary="Upsert records (bulk)"
)
def push(request: HttpRequest, account_id: uuid.UUID, body: PushIn) -> Any:
    account = GatewayAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No gateway account {account_id}.")
    if account.kind != "custom":
        raise InvalidRequest("Records are pushed only to custom gateway accounts.")
    try:
        return push_objects(account, body.objects)
    except PushRefused as refused:
        return error(422, "invalid_objects", "Some objects could not be read; nothing was written.",
                     refused.problems)  # fmt: skip
