"""Mail that must not become a ticket: auto-replies, bounces, lists, our own mail coming back.

RFC 3834 (``Auto-Submitted`` other than ``no``), the common auto-responder headers
(``X-Autoreply``, ``X-Autorespond``, Exchange's ``X-Auto-Response-Suppress``), ``Precedence:
bulk/junk/list`` and list headers (RFC 2369/2919), and bounces: an empty envelope sender
(``MAIL FROM:<>`` or ``Return-Path: <>``), a ``multipart/report`` delivery status (RFC 3464) or
a ``MAILER-DAEMON``/``postmaster`` sender. Answering any of these is how mail loops start.
"""

from __future__ import annotations

from billingdesk.inbound.parse import Parsed

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "noreply-dmarc-support"})


def noise_reason(parsed: Parsed, *, null_sender: bool) -> str:
    """Why this message is not a person writing to us ('' when it is)."""
    message = parsed.message
    if null_sender or parsed.header("Return-Path").replace(" ", "") == "<>":
        return "bounce: empty envelope sender"
    if message.get_content_type() == "multipart/report":
        return f"bounce: {message.get_param('report-type') or 'report'} report"
    senders = parsed.addresses("From", "Sender")
    if any(addr.rpartition("@")[0].lower() in _DAEMONS for addr in senders):
        return "bounce: sent by a mail daemon"
    auto = parsed.header("Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"auto-reply: Auto-Submitted: {auto[:60]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if parsed.header(name):
            return f"auto-reply: {name}"
    precedence = parsed.header("Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk: Precedence: {precedence}"
    if parsed.header("List-Id") or parsed.header("List-Unsubscribe"):
        return "bulk: mailing list"
    if parsed.header("X-Billingdesk-Document"):
        return "loop: one of our own document emails"
    return ""
