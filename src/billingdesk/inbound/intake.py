"""Stored before processed: the one way a message enters, whichever way it arrived.

``message_store`` masks every card number (``parse.redact_mime``), then in one transaction
stores the message and queues its processing job (in the same transaction with the database
queue, so neither exists without the other). Only then does the listener answer ``250`` or the
webhook ``200``. A message already stored (same Message-ID: the MTA or the provider retried)
is acknowledged again and not stored twice. A message larger than ``INBOUND_MAX_BYTES`` is
kept cut to that size and recorded as failed, never silently dropped.
"""

from __future__ import annotations

import hashlib
import logging
import re
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

from django.conf import settings
from django.db import IntegrityError, transaction

from billingdesk.billing.identity import normalize_email
from billingdesk.core.tasks import enqueue_in_transaction
from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.pan import redact
from billingdesk.inbound.parse import redact_bytes, redact_mime

log = logging.getLogger(__name__)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,296}>")


_HEADERS_ONLY = BytesParser(policy=compat32)


def _headers(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, From address, Subject; '' for each that cannot be read.

    Read with the headers-only compat32 parser (the modern policy's header objects cost a
    few milliseconds a message, a good part of the listener's time), encoded words decoded.
    """
    try:
        message = _HEADERS_ONLY.parsebytes(raw, headersonly=True)
        message_id = str(message.get("Message-ID") or "")
        unfolded = re.sub(r"\r?\n(?=[ \t])", "", str(message.get("Subject") or ""))
        subject = str(make_header(decode_header(unfolded)))
        found_from = getaddresses([str(message.get("From") or "")])
        from_email = next((addr for _, addr in found_from if "@" in addr), "")
    except Exception:
        return "", "", ""
    found = _MESSAGE_ID.search(message_id)
    return (found.group(0) if found else ""), from_email, subject


def message_store(
    raw: bytes,
    *,
    source: str,
    envelope_from: str | None = None,
    envelope_to: list[str] | None = None,
) -> tuple[InboundMessage, bool]:
    """Store a received message and queue its processing; (message, newly stored).

    ``envelope_from``: the SMTP ``MAIL FROM`` ('' for a bounce's null sender, None when the
    way in does not say).
    """
    from billingdesk.inbound.tasks import inbound_process_task

    size = len(raw)
    limit = settings.BILLINGDESK_INBOUND_MAX_BYTES
    too_large = size > limit
    if too_large:
        kept, pans = redact_bytes(raw[:limit])  # cut: masked on its bytes, not re-written
    else:
        kept, pans = redact_mime(raw)
    message_id, from_email, subject = _headers(kept)
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.billingdesk>"
    subject = redact(subject)[0]
    row = InboundMessage(
        message_id=message_id,
        source=source[:30],
        envelope_from=(envelope_from or "")[:320],
        null_sender=envelope_from == "",
        envelope_to=[str(a)[:320] for a in (envelope_to or [])][:50],
        from_email=(normalize_email(from_email) or from_email.lower())[:320],
        subject=subject[:300],
        raw=kept,
        raw_size=size,
        pan_redacted=pans > 0,
    )
    if too_large:
        row.status = InboundMessage.Status.FAILED
        row.reason = f"too large: {size} bytes (BILLINGDESK_INBOUND_MAX_BYTES is {limit})"
    try:
        with transaction.atomic():
            row.save()
            if not too_large:
                enqueue_in_transaction(inbound_process_task, row.pk)
    except IntegrityError:
        existing = InboundMessage.objects.get(message_id=message_id)
        log.info("inbound message %s already stored (%s)", message_id, existing.pk)
        return existing, False
    log.info(
        "inbound message stored: id=%s source=%s size=%s pan_redacted=%s",
        row.pk,
        source,
        size,
        row.pan_redacted,
    )
    return row, True
