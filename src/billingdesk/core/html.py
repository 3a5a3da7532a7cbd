"""HTML built in Python, escaped by default, and the http(s) allow-list for every URL we link.

``html(template, *values)`` is ``format_html`` at a fraction of its cost (the panel builds a
few hundred fragments per page): the template is trusted markup written in the code, every
value is escaped unless it is already ``SafeString`` (the result of ``html``, ``join``,
``url_attr``, or ``mark_safe`` used on purpose). ``int`` values need no escaping.

``safe_url`` is the one check for a URL that came from outside (a gateway's hosted invoice
page, a PDF link, a dashboard address): only ``http``/``https`` URLs with a host, or a path
on this site, are returned; anything else (``javascript:``, ``data:``, ``//host``, control
characters a browser would strip) becomes ''. Templates use the ``safe_url`` filter, Python
code ``url_attr`` (checked and escaped for an attribute).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from urllib.parse import urlsplit

from django.utils.safestring import SafeString

__all__ = ["SafeString", "esc", "html", "join", "safe_url", "url_attr"]

_SPECIAL = re.compile(r"[&<>\"']").search
# Controls, spaces and backslashes: browsers strip or reinterpret them inside a URL.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]").search
_SCHEMES = frozenset({"http", "https"})


def esc(value: object) -> str:
    """``value`` as HTML text (what ``{{ value }}`` prints), unless it is already safe."""
    kind = type(value)
    if kind is str:
        return escape(value) if _SPECIAL(value) else value  # type: ignore[arg-type]
    if kind is SafeString:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if isinstance(value, SafeString):
        return str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    text = str(value)
    return escape(text) if _SPECIAL(text) else text


def html(template: str, /, *values: object) -> SafeString:
    """``template`` (trusted markup with ``{}`` fields) with each value escaped."""
    return SafeString(template.format(*map(esc, values)))


def join(parts: Iterable[object], separator: str = "") -> SafeString:
    """The parts one after another, each escaped unless already safe; ``separator`` is
    trusted markup."""
    return SafeString(separator.join(map(esc, parts)))


def safe_url(value: object) -> str:
    """``value`` if it is an ``http``/``https`` URL with a host or a path on this site
    (``/…``), else ''. Not escaped: see ``url_attr`` for an attribute."""
    if not isinstance(value, str) or not value:
        return ""
    url = value.strip()
    if not url or len(url) > 4096 or _URL_UNSAFE(url):
        return ""
    if url.startswith("/"):
        return "" if url.startswith("//") else url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
        return ""
    return url


def url_attr(value: object) -> SafeString:
    """``safe_url(value)`` escaped for an HTML attribute ('' for a refused URL)."""
    return SafeString(escape(safe_url(value)))
