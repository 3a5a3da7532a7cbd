"""Reading what arrives from outside without ever failing with a 500: JSON bodies of bounded
depth, and ids that fit the database's 64-bit integers.

``json_loads`` raises ``ValueError`` (what callers already catch for malformed JSON) for a
document nested deeper than ``MAX_JSON_DEPTH``, instead of the ``RecursionError`` the standard
parser raises near Python's recursion limit; the depth is counted only when the document has
more brackets than the limit, so ordinary bodies pay one ``bytes.count``.

``IdConverter`` is the URL converter for database ids (``<id:person_id>``): 1 to 19 digits whose
value fits a signed 64-bit integer, so an id beyond it is a 404, never an ``OverflowError`` in
SQLite or a ``DataError`` in PostgreSQL on the hand-written SQL paths.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
MAX_ID = 2**63 - 1

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``data`` nests arrays/objects deeper than ``limit``."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', data)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def json_loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` refusing, with ``ValueError``, documents nested deeper than
    ``max_depth`` (and any ``RecursionError`` of the parser)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_depth_exceeds(raw, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_id(value: object) -> int | None:
    """A positive database id from text or an int, or None (not a number, or beyond 63 bits).
    ASCII digits only: ``int()`` would also read ``"²"``-like digits, ``"1_0"`` and spaces."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not (0 < len(value) <= 19):
        return None
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


class IdConverter:
    """``<id:name>`` in URL patterns: a database id (1 … 2**63 - 1)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("id out of range")  # the pattern does not match: 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
