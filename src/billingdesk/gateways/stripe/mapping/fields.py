"""Reading Stripe's fields: Unix or RFC 3339 timestamps, references (an id or the expanded
object), strings, currencies, amounts, embedded lists, and every object's base fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

JSON = Mapping[str, Any]


def ts(value: Any) -> datetime | None:
    """Stripe v1 timestamps are Unix seconds."""
    if value in (None, "", 0):
        return None
    if isinstance(value, str) and not value.isdigit():
        # v2 API objects (thin events) use RFC 3339 strings.
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.fromtimestamp(int(value), tz=UTC)


def ref(value: Any) -> str | None:
    """A reference field is an id, or the object itself when expanded."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value else None


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _cur(value: Any) -> str:
    return _s(value).upper()


def _int(value: Any) -> int:
    return int(value or 0)


def list_data(value: Any) -> list[JSON]:
    """Embedded lists (``{"object": "list", "data": [...]}``) or plain arrays."""
    if isinstance(value, Mapping):
        value = value.get("data")
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _base(obj: JSON, updated: datetime) -> dict[str, Any]:
    return {
        "id": _s(obj.get("id")),
        "updated": updated,
        "created": ts(obj.get("created")),
        "raw": obj,
        "deleted": bool(obj.get("deleted")),
    }
