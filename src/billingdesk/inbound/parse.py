"""Reading inbound MIME: the readable text, the reply without the quoted original, redaction.

Any charset: a part whose declared charset is unknown or wrong is decoded as UTF-8, then
cp1252, replacing what still does not decode, so a badly labelled message is read, never lost.
HTML-only mail is turned into text. ``reply_text`` keeps what the customer wrote and cuts the
quoted original (``> `` lines, "On … wrote:", "-----Original Message-----" and their fr/es/de
forms) and a ``-- `` signature; the full message stays stored and the helpdesk gets both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from billingdesk.core.html import html_to_text
from billingdesk.inbound.pan import contains_pan, redact

_PARSER = BytesParser(policy=policy.default)


class MessageUnreadable(Exception):
    """The bytes are not a message we can read (no headers, nothing decodable)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes = b""


@dataclass(slots=True)
class Parsed:
    message: EmailMessage
    text: str
    attachments: list[Attachment] = field(default_factory=list)

    def header(self, name: str) -> str:
        try:
            value = self.message.get(name)
        except Exception:  # a malformed header: treated as absent
            return ""
        return str(value or "").strip()

    def addresses(self, *names: str) -> list[str]:
        found: list[str] = []
        for name in names:
            try:
                values = [str(v) for v in self.message.get_all(name) or []]
            except Exception:  # noqa: S112 - a malformed address header: treated as absent
                continue
            found += [addr for _, addr in getaddresses(values) if "@" in addr]
        return found

    def message_ids(self, name: str) -> list[str]:
        return re.findall(r"<[^<>\s]+>", self.header(name))


def parse_bytes(raw: bytes) -> EmailMessage:
    message = _PARSER.parsebytes(raw)
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default gives these
        raise MessageUnreadable("not an email message")
    return message


def part_text(part: Message) -> str:
    """A text part decoded, whatever its declared charset says."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    for charset in ("utf-8", "cp1252"):
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", errors="replace")  # pragma: no cover - cp1252 maps nearly all


_QUOTE_HEADER = re.compile(
    r"^\s*(?:On\b.*\bwrote:|Le\b.*\ba écrit\s?:|El\b.*\bescribió:|Am\b.*\bschrieb.*:"
    r"|-{2,}\s*(?:Original Message|Message d'origine|Mensaje original|Ursprüngliche Nachricht)"
    r"\s*-{2,}|From:\s.*|De\s?:\s.*|Von:\s.*)\s*$",
    re.IGNORECASE,
)


def reply_text(text: str) -> str:
    """What the customer wrote above the quoted original and their signature."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.rstrip() == "--" or line == "-- " or _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()


def parse(raw: bytes) -> Parsed:
    try:
        message = parse_bytes(raw)
    except Exception as exc:
        raise MessageUnreadable(f"cannot parse the message: {exc}") from exc
    if not message.keys():
        raise MessageUnreadable("the message has no headers")
    text = ""
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is not None:
        content = part_text(body)
        text = html_to_text(content) if body.get_content_subtype() == "html" else content
    elif not message.is_multipart() and message.get_content_maintype() == "text":
        text = part_text(message)
    attachments: list[Attachment] = []
    try:
        for part in message.iter_attachments():
            payload = part.get_payload(decode=True)
            attachments.append(
                Attachment(
                    filename=str(part.get_filename() or ""),
                    content_type=part.get_content_type(),
                    size=len(payload) if isinstance(payload, bytes) else 0,
                    data=payload if isinstance(payload, bytes) else b"",
                )
            )
    except Exception:  # noqa: S110 - a broken attachment does not hide the text
        pass
    return Parsed(message=message, text=text, attachments=attachments)


# --- redaction of the raw message ------------------------------------------------------------
_ID_HEADERS = re.compile(
    r"^(?:Message-ID|In-Reply-To|References|Resent-Message-ID)[ \t]*:(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)
_BOUNDARY = re.compile(r"boundary[ \t]*=[ \t]*(?:\"([^\"\r\n]{1,200})\"|([^\s;\"]{1,200}))", re.I)
_KEEP = "\x00bdkeep{}\x00"


def _letters(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 26)
        out += chr(97 + rest)
        if not number:
            return out


def _structural(text: str) -> list[str]:
    """Message identifiers and MIME boundaries in a raw message: machine-made digit runs.

    A Message-ID such as ``<176500000012.4242.4111111111111111.doc5@shop>`` (``make_msgid``'s
    random part) or a boundary ``===============4111111111111111111==`` passes the Luhn test
    one time in ten. Masking it would break threading (``In-Reply-To`` no longer names the
    document's email) or the MIME structure, so these are left as they are; a boundary is
    kept only when it really delimits parts (a ``--boundary`` line).
    """
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    kept: list[str] = []
    for header in _ID_HEADERS.finditer(head):
        kept += re.findall(r"<[^<>\s]{1,300}>", header.group(1))
    for found in _BOUNDARY.finditer(text):
        boundary = found.group(1) or found.group(2)
        if re.search(r"^--" + re.escape(boundary), text, re.MULTILINE):
            kept.append(boundary)
    return sorted(set(kept), key=len, reverse=True)


def _redact_bytes(raw: bytes) -> tuple[bytes, int]:
    text = raw.decode("latin-1")  # byte-for-byte: digits and separators are ASCII
    kept = _structural(text)
    for index, token in enumerate(kept):
        text = text.replace(token, _KEEP.format(_letters(index)))
    new, count = redact(text)
    for index, token in enumerate(kept):
        new = new.replace(_KEEP.format(_letters(index)), token)
    return new.encode("latin-1", errors="replace"), count


_TEXT_HEADERS = ("Subject", "Comments", "Keywords", "Thread-Topic")


def redact_bytes(raw: bytes) -> tuple[bytes, int]:
    """Card numbers masked on the bytes alone (a cut message that must not be rewritten)."""
    return _redact_bytes(raw)


WITHHELD = (
    "[billingdesk: the attachment {name} ({ctype}) was removed before it was stored: it "
    "contained what looks like a card number.]"
)


def _binary_withheld(part: Message) -> bool:
    """A non-text attachment whose bytes hold a card number (a CSV sent as octet-stream, an
    uncompressed PDF…) replaced by a short text saying so; True if it was. What cannot be read
    as text (images, compressed PDFs) is kept: no scan can see a number in it."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not contains_pan(payload.decode("latin-1")):
        return False
    name = part.get_filename() or "attachment"
    notice = WITHHELD.format(name=redact(name)[0], ctype=part.get_content_type())
    part.set_content(  # type: ignore[attr-defined]
        notice, disposition="attachment", filename=redact(name)[0] + ".removed.txt"
    )
    return True


_FAST = BytesParser(policy=policy.compat32)


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    if part.get_content_maintype() != "text":
        return payload.decode("latin-1")
    try:
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:
        return payload.decode("latin-1")


def _may_hold_a_card(raw: bytes) -> bool:
    """Whether any free-text header or part (decoded) holds a card number, read with the
    cheap compat32 parser: most messages hold none, and then the expensive rewrite is
    skipped (the modern policy's header objects cost milliseconds a message)."""
    try:
        message = _FAST.parsebytes(raw)
        for name in _TEXT_HEADERS:
            value = message.get(name)
            if value is not None:
                unfolded = re.sub(r"\r?\n(?=[ \t])", "", str(value))
                if contains_pan(str(make_header(decode_header(unfolded)))):
                    return True
        for part in message.walk():
            if part.is_multipart() or part.get_content_maintype() == "message":
                continue
            if contains_pan(_text_of(part)):
                return True
    except Exception:
        return True  # let the full pass decide
    return False


def redact_mime(raw: bytes) -> tuple[bytes, int]:
    """The message with card numbers masked in its headers and every text part (decoded, so a
    quoted-printable or base64 part is covered too), and how many were masked.

    A message that cannot be parsed or re-serialised is masked on its bytes instead.
    """
    count = 0
    if not _may_hold_a_card(raw):
        final, found = _redact_bytes(raw)
        return final, found
    try:
        message = parse_bytes(raw)
        changed = False
        # Only the free-text headers: structural ones (boundaries, ids) hold long digit runs
        # that may pass Luhn by chance, and rewriting them would break the message.
        for name in _TEXT_HEADERS:
            value = message.get(name)
            if value is None:
                continue
            new, found = redact(str(value))
            if found:
                count += found
                changed = True
                message.replace_header(name, new)
        for part in message.walk():
            if part.is_multipart() or part.get_content_maintype() == "message":
                continue
            if part.get_content_maintype() != "text":
                if _binary_withheld(part):
                    count += 1
                    changed = True
                continue
            text = part_text(part)
            new, found = redact(text)
            if not found:
                continue
            count += found
            changed = True
            disposition = part.get_content_disposition()
            part.set_content(  # type: ignore[attr-defined]
                new,
                subtype=part.get_content_subtype(),
                disposition=disposition,
                filename=part.get_filename(),
            )
        out = message.as_bytes(policy=policy.SMTP) if changed else raw
    except Exception:
        out = raw
    final, found = _redact_bytes(out)
    return final, count + found
