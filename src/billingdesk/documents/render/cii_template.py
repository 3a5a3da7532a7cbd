"""The factur-x library's CII XML, compiled into a template per document shape.

``facturx.generate_xml`` walks its field tables and builds an lxml tree for every document:
about a quarter of an invoice PDF's time. The structure of what it writes depends on which
fields are present (and non-empty) and on the code values (currency, type, categories, scheme
ids), never on the text of a name, an amount or a date. So, per shape — the same fields, the
same number of lines, the same codes: the documents of one brand, seller and kind —

* the library writes the document once with a distinct sentinel in place of every free text,
  amount and date (``_TEXT_FIELDS``, ``_DATE_FIELDS``); the sentinels split its output into
  fixed parts and slots;
* the template is kept only if, filled with the document's own values, it gives back the
  library's output for that document byte for byte (else that shape always goes through the
  library, and it is logged);
* every later document of that shape is the fixed parts joined with its escaped values.

A value the template could not reproduce as the library would (a character lxml refuses or
writes as a character reference, a number the library would reject, a date given as a
string) sends that one document through the library. ``tests`` compare both outputs for
documents of every kind the service issues and for hostile texts.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from facturx import generate_xml

# Free values (text nodes whose content never decides the structure): party fields, amounts,
# quantities, percentages, identifiers and texts. Every other field is part of the shape.
_TEXT_FIELDS = frozenset(
    {
        "BT-1",
        "BT-22",
        "BT-25",
        "BT-120",
        "BT-126",
        "BT-153",
        # party dicts (BG-4, BG-7)
        "name",
        "postcode",
        "addr_l1",
        "addr_l2",
        "addr_l3",
        "city",
        "country_code",
        "vat_identifier",
        "legal_identifier",
        "einvoicing_addr",
    }
)
_NUMERIC_FIELDS = frozenset(
    {
        "BT-106",
        "BT-109",
        "BT-110",
        "BT-111",
        "BT-112",
        "BT-113",
        "BT-115",
        "BT-116",
        "BT-117",
        "BT-119",
        "BT-129",
        "BT-131",
        "BT-146",
        "BT-152",
    }
)
_DATE_FIELDS = frozenset({"BT-2", "BT-9", "BT-26", "BT-72"})
# What lxml writes as is in a text node, apart from & < > (escaped below): it refuses control
# characters and writes a carriage return as a character reference.
_PLAIN_TEXT = re.compile(r"[\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
# Sentinels: numbers for text and numeric fields (the library checks that numeric fields parse
# as floats), dates with a distinct year for date fields; always a whole text node.
_SENTINEL = re.compile(r"(?<=>)(9871\d{5}\.25|1[1-8]\d\d0307)(?=<)")
_KEPT = 256  # shapes remembered
_LEVEL = "en16931"

logger = logging.getLogger(__name__)


class _NotTemplatable(Exception):
    """This document's values cannot go through a template: use the library."""


def _escape(text: str) -> str:
    if not _PLAIN_TEXT.fullmatch(text):
        raise _NotTemplatable
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _walk(value: Any, key: str, values: list[str], sentinel: bool) -> tuple[Any, Any]:
    """(shape, copy) of ``value``: the shape with a slot for each free value, whose escaped
    text is appended to ``values``; the copy is ``value`` itself, or with the slots' sentinels
    when ``sentinel``."""
    if isinstance(value, dict):
        items = [(k, _walk(v, k, values, sentinel)) for k, v in value.items()]
        return ("D", tuple((k, s) for k, (s, _) in items)), {k: c for k, (_, c) in items}
    if isinstance(value, list):
        items2 = [_walk(v, key, values, sentinel) for v in value]
        return ("L", tuple(s for s, _ in items2)), [c for _, c in items2]
    if key in _DATE_FIELDS and isinstance(value, date):
        slot = len(values)
        values.append(value.strftime("%Y%m%d"))
        return "d", date(1100 + slot, 3, 7) if sentinel else value
    if (key in _TEXT_FIELDS or key in _NUMERIC_FIELDS) and isinstance(value, str) and value:
        if key in _NUMERIC_FIELDS:
            try:
                float(value)
            except ValueError:
                raise _NotTemplatable from None
        slot = len(values)
        values.append(_escape(value))
        return "s", f"9871{slot:05d}.25" if sentinel else value
    if key in _DATE_FIELDS:
        raise _NotTemplatable  # a date as a string: the library parses it
    return ("v", type(value).__name__, value), value


def _library(data: dict[str, Any]) -> bytes:
    xml: bytes = generate_xml(
        copy.deepcopy(data), level=_LEVEL, check_xsd=False, check_schematron=False
    )
    return xml


def _compile(data: dict[str, Any], values: list[str], expected: bytes) -> list[str | int] | None:
    """The template of ``data``'s shape: fixed text and slot numbers in turn; None when the
    library's output could not be reproduced (or has a sentinel outside a text node)."""
    _, with_sentinels = _walk(data, "", [], sentinel=True)
    written = _library(with_sentinels).decode("utf-8")
    parts: list[str | int] = []
    for index, piece in enumerate(_SENTINEL.split(written)):
        if index % 2:
            slot = int(piece[4:9]) if "." in piece else int(piece[:4]) - 1100
            if slot >= len(values):
                return None
            parts.append(slot)
        else:
            parts.append(piece)
    if _fill(parts, values) != expected:
        return None
    return parts


def _fill(parts: list[str | int], values: list[str]) -> bytes:
    return "".join(values[p] if isinstance(p, int) else p for p in parts).encode("utf-8")


_templates: OrderedDict[Any, list[str | int] | None] = OrderedDict()
_lock = threading.Lock()


def cii_xml(data: dict[str, Any]) -> bytes:
    """What ``generate_xml(data, level="en16931", check_xsd=False, check_schematron=False)``
    returns, from the compiled template of ``data``'s shape when there is one."""
    values: list[str] = []
    try:
        shape, _ = _walk(data, "", values, sentinel=False)
    except _NotTemplatable:
        return _library(data)
    with _lock:
        known = shape in _templates
        parts = _templates.get(shape)
        if known:
            _templates.move_to_end(shape)
    if parts is not None:
        return _fill(parts, values)
    expected = _library(data)
    if not known:
        compiled = _compile(data, values, expected)
        if compiled is None:
            logger.warning("Factur-X: no template for a document shape; the library writes it")
        with _lock:
            _templates[shape] = compiled
            if len(_templates) > _KEPT:
                _templates.popitem(last=False)
    return expected
