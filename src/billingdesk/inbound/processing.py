"""Processing a stored message: loops and noise out, then matched and into the helpdesk.

Matching, most certain first: a valid routing address among the recipients (the token names
the document and person); then ``In-Reply-To``/``References`` against the Message-IDs of
documents we emailed; then the sender's address through person matching; otherwise the
message still becomes a ticket, marked unmatched. A later message about the same document
(or person, or unmatched sender) is added to the ticket opened for the first one.

The billing-context note is only ever the *sender's*: when a routing address or a thread names
a person the sender's address does not resolve to (the email was forwarded), the ticket is
opened without that person's billing context and says why.

Idempotent: a message is claimed before it is worked on, done messages are left alone, and the
helpdesk write is keyed by the message (``external_id``), so a replayed job adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billingdesk.billing.identity import normalize_email
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import OperationalError, UserFacingError
from billingdesk.core.mailroute import address_route
from billingdesk.documents.models import Document, DocumentEmail
from billingdesk.helpdesks.interface import Attachment as HelpdeskAttachment
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.registry import provider_for
from billingdesk.helpdesks.services import ticket_create_with_context
from billingdesk.inbound.loops import noise_reason
from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.pan import contains_pan, redact
from billingdesk.inbound.parse import MessageUnreadable, Parsed, parse, reply_text

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
PAN_NOTICE = "[billingdesk: a card number was removed from this message. {then}]"
PAN_LINK_SENT = "The customer was sent their secure billing link by email."
PAN_NO_LINK = "No billing link was sent: the sender is not on a customer's record."
Status = InboundMessage.Status


@dataclass(frozen=True, slots=True)
class Match:
    by: str
    document_id: int | None = None
    person_id: int | None = None


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 30 s doubling, ≤ 1 h."""
    return float(min(3600, 30 * 2 ** max(0, attempts - 1)))


def match_find(parsed: Parsed, envelope_to: list[str], from_email: str) -> Match:
    recipients = [*envelope_to, *parsed.addresses("Delivered-To", "To", "Cc")]
    for address in recipients:
        route = address_route(address)
        if route is not None:
            doc = Document.objects.filter(pk=route.document_id).only("pk", "person").first()
            if doc is not None:
                return Match(InboundMessage.Match.TOKEN, doc.pk, route.person_id)
    ids = parsed.message_ids("In-Reply-To") + list(reversed(parsed.message_ids("References")))
    if ids:
        sent = (
            DocumentEmail.objects.filter(message_id__in=ids)
            .select_related("document")
            .order_by("-sent_at")
            .first()
        )
        doc = sent.document if sent else Document.objects.filter(message_id__in=ids).first()
        if doc is not None:
            return Match(InboundMessage.Match.THREAD, doc.pk, doc.person_id)  # type: ignore[attr-defined]
    if from_email:
        candidates = person_resolve(email=from_email)
        if candidates:
            return Match(InboundMessage.Match.SENDER, None, candidates[0].person.pk)
    return Match(InboundMessage.Match.UNMATCHED)


def helpdesk_for() -> HelpdeskConnection | None:
    """The connection tickets go to: the one named in settings, else the first enabled one
    with a ticket API."""
    name = settings.BILLINGDESK_INBOUND_HELPDESK
    connections = HelpdeskConnection.objects.filter(enabled=True).order_by("name")
    if name:
        connections = connections.filter(name=name)
    for connection in connections:
        try:
            if provider_for(connection.kind).client_class is not None:
                return connection
        except Exception:  # noqa: S112 - an unknown kind cannot take tickets
            continue
    return None


def _own_message(parsed: Parsed) -> bool:
    message_id = parsed.header("Message-ID")
    return bool(message_id) and DocumentEmail.objects.filter(message_id=message_id).exists()


def _rate_limited(row: InboundMessage) -> bool:
    if not row.from_email:
        return False
    since = timezone.now() - timedelta(hours=1)
    recent = InboundMessage.objects.filter(
        from_email=row.from_email, status=Status.TICKETED, processed_at__gte=since
    ).count()
    return recent >= settings.BILLINGDESK_INBOUND_RATE_PER_HOUR


def _ticket_before(row: InboundMessage, connection: HelpdeskConnection, match: Match) -> str:
    earlier = InboundMessage.objects.filter(connection=connection, status=Status.TICKETED).exclude(
        pk=row.pk
    )
    if match.document_id is not None:
        earlier = earlier.filter(document_id=match.document_id)
    elif match.person_id is not None:
        earlier = earlier.filter(person_id=match.person_id, document_id=None)
    else:
        earlier = earlier.filter(from_email=row.from_email, person_id=None)
    found = earlier.exclude(ticket_id="").order_by("-processed_at").first()
    return found.ticket_id if found else ""


def _finish(row: InboundMessage, status: str, reason: str = "", **fields: object) -> str:
    values = {
        "status": status,
        "reason": reason[:500],
        "processed_at": timezone.now(),
        "claimed_at": None,
        **fields,
    }
    InboundMessage.objects.filter(pk=row.pk).update(**values)
    log.info("inbound message %s: %s %s", row.pk, status, reason)
    return f"{status}: {reason}" if reason else status


def _claim(message_pk: int) -> InboundMessage | None:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORKER_LOST_SECONDS)
    claimed = (
        InboundMessage.objects.filter(pk=message_pk, status=Status.RECEIVED)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    return InboundMessage.objects.get(pk=message_pk) if claimed else None


def message_process(message_pk: int) -> tuple[str, float | None]:
    """Process one stored message; (outcome, seconds until a retry is due or None)."""
    row = _claim(message_pk)
    if row is None:
        return "not waiting (done or being processed)", None
    try:
        parsed = parse(bytes(row.raw))
    except MessageUnreadable as exc:
        return _finish(row, Status.FAILED, str(exc)), None
    reason = noise_reason(parsed, null_sender=row.null_sender)
    if not reason and _own_message(parsed):
        reason = "loop: our own Message-ID"
    if reason:
        return _finish(row, Status.IGNORED, reason), None
    if _rate_limited(row):
        limit = settings.BILLINGDESK_INBOUND_RATE_PER_HOUR
        return _finish(row, Status.IGNORED, f"rate limit: {limit} tickets/hour per sender"), None
    if not row.from_email:
        return _finish(row, Status.FAILED, "no sender address (From)"), None

    match = match_find(parsed, list(row.envelope_to or []), row.from_email)
    connection = helpdesk_for()
    fields: dict[str, object] = {
        "matched_by": match.by,
        "document_id": match.document_id,
        "person_id": match.person_id,
    }
    if connection is None:
        return _finish(row, Status.FAILED, "no enabled helpdesk connection", **fields), None
    fields["connection"] = connection

    # The sender's own person: the note never carries someone else's billing context.
    sender_people = {m.person.pk for m in person_resolve(email=row.from_email)}
    person_id = match.person_id if match.person_id in sender_people else None
    if match.person_id is None and match.by != InboundMessage.Match.SENDER:
        person_id = None
    document_id = match.document_id if person_id is not None else None
    if document_id is not None:
        doc_person = Document.objects.filter(pk=document_id).values_list("person", flat=True)
        if doc_person.first() != person_id:
            document_id = None

    body = reply_text(parsed.text)
    body, found = redact(body)  # already masked at intake; this is a second guard
    notes: list[str] = []
    if row.pan_redacted or found:
        then = PAN_LINK_SENT if person_id is not None else PAN_NO_LINK
        notes.append(PAN_NOTICE.format(then=then))
    if match.person_id is not None and person_id is None:
        notes.append(
            "[billingdesk: this reply came to the address of another customer's document from "
            "an address not on their record, so no billing context is shown.]"
        )
    if match.by == InboundMessage.Match.UNMATCHED:
        notes.append("[billingdesk: the sender matched no customer (unmatched).]")
    limit = provider_for(connection.kind).client_class.attachment_limit  # type: ignore[union-attr]
    files, kept = attachments_for(row, parsed, limit)
    if files:
        names = ", ".join(f.filename for f in files[:20])
        notes.append(f"[billingdesk: attached to the billing note: {names}]")
    if kept:
        notes.append(f"[billingdesk: kept with the stored message (#{row.pk}): {', '.join(kept)}]")
    message = "\n\n".join([body, *notes]).strip()[:19_000]
    subject = (row.subject or "").strip()[:250] or "(no subject)"
    ticket_before = _ticket_before(row, connection, match)
    try:
        outcome = ticket_create_with_context(
            connection=connection,
            requester_email=row.from_email,
            requester_name=_display_name(parsed),
            subject=subject,
            message=message,
            ticket_id=ticket_before,
            external_id=f"inbound:{row.pk}",
            person_id=person_id,
            document_id=document_id,
            attachments=files,
        )
    except OperationalError as exc:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            return _finish(
                row, Status.FAILED, f"helpdesk unavailable {attempts} times: {exc}", **fields
            ), None
        InboundMessage.objects.filter(pk=row.pk).update(
            attempts=attempts, claimed_at=None, reason=f"helpdesk unavailable: {exc}"[:500]
        )
        return f"helpdesk unavailable (attempt {attempts}): retry", retry_delay(attempts)
    except UserFacingError as exc:
        return _finish(row, Status.FAILED, f"the helpdesk refused: {exc}", **fields), None
    fields["ticket_id"] = outcome.ticket_id
    if (row.pan_redacted or found) and person_id is not None:
        from billingdesk.inbound.notify import card_removed_notify

        card_removed_notify(to=row.from_email, person_id=person_id, document_id=document_id)
    return _finish(row, Status.TICKETED, "added to ticket" if ticket_before else "", **fields), None


def attachments_for(
    row: InboundMessage, parsed: Parsed, limit: int
) -> tuple[tuple[HelpdeskAttachment, ...], list[str]]:
    """The files to put on the ticket's note, and the names of those kept back.

    First the full original message (``message-<id>.eml``, as stored: card numbers already
    masked), then the attachments in order, each at most ``BILLINGDESK_INBOUND_ATTACHMENT_
    MAX_BYTES`` and all together within what the helpdesk's API takes (``limit``; 0 when it
    takes no files). Each is checked for card numbers once more: one found is held back.
    """
    per_file = settings.BILLINGDESK_INBOUND_ATTACHMENT_MAX_BYTES
    raw = bytes(row.raw)
    candidates = [(f"message-{row.pk}.eml", "message/rfc822", raw)]
    for index, found in enumerate(parsed.attachments, start=1):
        name = redact(found.filename)[0][:120] or f"attachment-{index}"
        candidates.append((name, found.content_type or "application/octet-stream", found.data))
    files: list[HelpdeskAttachment] = []
    kept: list[str] = []
    total = 0
    for name, content_type, data in candidates:
        clean = content_type == "message/rfc822" or not contains_pan(data.decode("latin-1"))
        if not clean:
            kept.append(f"{name} (it looks like it holds a card number)")
        elif len(data) > per_file or total + len(data) > limit:
            kept.append(f"{name} ({len(data)} bytes, more than the helpdesk takes)")
        else:
            files.append(HelpdeskAttachment(name, content_type, data))
            total += len(data)
    if limit == 0:
        kept = [f"{name} (this helpdesk's API takes no files)" for name, _, _ in candidates]
    return tuple(files), kept[:20]


def _display_name(parsed: Parsed) -> str:
    sender = parsed.message.get("From")
    addresses = getattr(sender, "addresses", ()) if sender is not None else ()
    name = str(addresses[0].display_name) if addresses else ""
    return redact(name)[0][:200]


def message_retry(message_pk: int) -> bool:
    """An administrator's re-run of a failed (or stuck) message: back to waiting, queued."""
    from billingdesk.core.tasks import enqueue_on_commit
    from billingdesk.inbound.tasks import inbound_process_task

    updated = (
        InboundMessage.objects.filter(pk=message_pk)
        .exclude(status=Status.TICKETED)
        .update(status=Status.RECEIVED, attempts=0, claimed_at=None, reason="")
    )
    if updated:
        enqueue_on_commit(inbound_process_task, message_pk)
    return bool(updated)


__all__ = ["Match", "match_find", "message_process", "message_retry", "normalize_email"]
