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
from collections.abc import Callable, Iterable
from html import escape
from html.parser import HTMLParser
from string import Formatter
from typing import Any
from urllib.parse import urlsplit

from django.utils.safestring import SafeData, SafeString

__all__ = ["SafeString", "esc", "html", "html_to_text", "join", "safe_url", "url_attr"]

_SPECIAL = re.compile(r"[&<>\"']").search
# Controls, spaces and backslashes: browsers strip or reinterpret them inside a URL.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]").search
_SCHEMES = frozenset({"http", "https"})


def esc(value: object) -> str:
    """``value`` as HTML text (what ``{{ value }}`` prints), unless it is already safe."""
    kind = type(value)
    if kind is str or kind is SafeString:
        text: str = value  # type: ignore[assignment]  # exactly str or SafeString, checked above
        if kind is SafeString:
            return text
        return escape(text) if _SPECIAL(text) else text
    if kind is int:
        return str(value)
    if isinstance(value, SafeData):
        return str(value)
    if not isinstance(value, str) and hasattr(value, "__html__"):  # str subclasses: enums
        return str(value.__html__())
    text = str(value)
    return escape(text) if _SPECIAL(text) else text


def html(template: str, /, *values: object) -> SafeString:
    """``template`` (trusted markup with ``{}`` fields) with each value escaped."""
    return (_COMPILED.get(template) or _compile(template))(*values)


_COMPILED: dict[str, Callable[..., SafeString]] = {}


def _compile(template: str) -> Callable[..., SafeString]:
    """A function writing ``template`` with its values escaped, compiled once per template.

    ``str.format`` parses its template on every call, which was most of the panel's time; the
    templates are literals in the code, so each is turned once into a function that joins its
    literal parts and its (escaped) values — what an f-string compiles to. Only ``{}`` fields
    (no names, no format specs): the values are positional, as with ``str.format``.
    """
    pieces: list[str] = []
    count = 0
    for literal, name, spec, conversion in Formatter().parse(template):
        if literal:
            pieces.append(repr(literal))
        if name is None:
            continue
        if name != "" or spec or conversion:
            raise ValueError(f"html() templates take only {{}} fields: {template!r}")
        v = f"v{count}"
        # Inline: a SafeString as is, a str escaped only if it has a special character.
        pieces.append(
            f"({v} if type({v}) is S else (e({v}) if sp({v}) else {v})"
            f" if type({v}) is str else esc({v}))"
        )
        count += 1
    if not pieces:
        pieces.append("''")
    arguments = ", ".join(f"v{i}" for i in range(count))
    source = f"def build({arguments}):\n    return S(''.join(({', '.join(pieces)},)))\n"
    namespace: dict[str, Any] = {"S": SafeString, "esc": esc, "e": escape, "sp": _SPECIAL}
    exec(source, namespace)  # noqa: S102 - source made above from a literal template's parts
    build: Callable[..., SafeString] = namespace["build"]
    _COMPILED[template] = build
    return build


def join(parts: Iterable[object], separator: str = "") -> SafeString:
    """The parts one after another, each escaped unless already safe; ``separator`` is
    trusted markup."""
    return SafeString(separator.join([p if type(p) is SafeString else esc(p) for p in parts]))


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


class _Text(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    """Markup as plain text: blocks become lines, scripts and styles vanish, entities decoded
    (an inbound email's HTML part, a helpdesk message's HTML body)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.out)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
