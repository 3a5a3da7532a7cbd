"""Writes into helpdesks: a ticket with a private note carrying billing context.

Used by the ticket API endpoint, by ``billingdesk helpdesk test-ticket`` and (later) by the
customer pages and email replies.

Everything in the note is the *requester's*: ``person_id`` must be a person the requester's
email resolves to, ``document_id`` a document of that person, and ``ticket_id`` a ticket of that
requester: one billingdesk opened for the same person (every ticket it opens is recorded), or
one the caller proved (the embedded panel's signed proof named that conversation, or an
operator at the CLI). So no person's billing note can be put into another person's ticket.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billingdesk.billing.identity import normalize_email
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import CapabilityMissing, GatewayUnavailable, InvalidRequest, NotFound
from billingdesk.helpdesks.interface import Attachment, Note, TicketDraft
from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket
from billingdesk.helpdesks.notes import note_build
from billingdesk.helpdesks.registry import provider_for
from billingdesk.panel.selectors import PanelData, panel_data

logger = logging.getLogger(__name__)

_TICKET_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


@dataclass(frozen=True, slots=True)
class TicketOutcome:
    ticket_id: str
    url: str
    note_id: str
    created: bool  # False: an earlier call (same external id) or an existing ticket
    person_id: int | None


def _document_label(document_id: int | None, person_id: int | None) -> str:
    if document_id is None:
        return ""
    from billingdesk.documents.models import Document

    doc = Document.objects.filter(pk=document_id).first()
    if doc is None:
        raise InvalidRequest(f"There is no document {document_id}.")
    if person_id is None or doc.person_id != person_id:  # type: ignore[attr-defined]
        raise InvalidRequest(f"Document {document_id} is not the requester's.")
    amount = f"{doc.gross} {doc.currency} (minor units)"
    try:
        from billingdesk.panel.formatting import money_display

        amount = money_display(doc.gross, doc.currency, locale="en")
    except Exception:  # noqa: S110 - formatting only
        pass
    return f"{doc.get_kind_display()} {doc.number}, {amount}"  # type: ignore[attr-defined]


def _person(person_id: int | None, email: str) -> PanelData | None:
    """The requester's person: the one asked for, if the requester's email resolves to it."""
    candidates = [m.person.pk for m in person_resolve(email=email)]
    if person_id is not None:
        if person_id not in candidates:
            raise InvalidRequest(f"Person {person_id} is not the requester ({email}).")
        try:
            return panel_data(person_id)
        except NotFound:
            raise InvalidRequest(f"There is no person {person_id}.") from None
    return panel_data(candidates[0]) if candidates else None


def _ticket_is_requesters(
    connection: HelpdeskConnection, ticket_id: str, person_id: int | None
) -> bool:
    """Whether billingdesk opened (or recorded) this ticket for the same person."""
    records = HelpdeskTicket.objects.filter(connection=connection, ticket_id=ticket_id)
    return records.exists() and not records.exclude(person_id=person_id).exists()


def _pending_record(
    connection: HelpdeskConnection, external_id: str, person_id: int | None, subject: str
) -> HelpdeskTicket:
    """The record of a ticket about to be opened (no ticket id yet), written first."""
    try:
        with transaction.atomic():
            return HelpdeskTicket.objects.create(
                connection=connection,
                external_id=external_id,
                ticket_id="",
                person_id=person_id,
                subject=subject,
            )
    except IntegrityError:
        raise GatewayUnavailable(
            f"The ticket {external_id} is being opened by another worker; try again shortly."
        ) from None


def ticket_create_with_context(
    *,
    connection: HelpdeskConnection,
    requester_email: str,
    subject: str,
    message: str = "",
    requester_name: str = "",
    ticket_id: str = "",
    external_id: str = "",
    person_id: int | None = None,
    document_id: int | None = None,
    ticket_proven: bool = False,
    attachments: tuple[Attachment, ...] = (),
) -> TicketOutcome:
    """Open a ticket for the customer (or use ``ticket_id``) and add the billing-context note.

    With an ``external_id`` the call is idempotent: a retry finds the ticket opened before and
    only adds the note if it is still missing; the record is written (pending) *before* the
    helpdesk is asked to open the ticket, so a crash between the two leaves a trace and the
    retry first looks the ticket up (``TicketClient.ticket_find``) rather than opening a second.
    ``attachments`` go on the note, where the helpdesk's API takes files (the caller keeps
    them within ``client.attachment_limit``). ``ticket_proven``: the caller has proof that
    ``ticket_id`` is this requester's (see the module docstring); otherwise it must be one
    billingdesk recorded for the same person.
    """
    email = normalize_email(requester_email or "")
    if not email:
        raise InvalidRequest("requester_email must be an email address.")
    subject = (subject or "").strip()
    if not subject or len(subject) > 250:
        raise InvalidRequest("subject is required (at most 250 characters).")
    if len(message or "") > 20_000:
        raise InvalidRequest("message is too long (at most 20,000 characters).")
    if ticket_id and not _TICKET_ID.match(ticket_id):
        raise InvalidRequest("ticket_id must be a helpdesk ticket id (letters, digits, - and _).")
    if len(external_id) > 200:
        raise InvalidRequest("external_id is too long (at most 200 characters).")
    if not connection.enabled:
        raise InvalidRequest(f"The helpdesk connection {connection.name!r} is disabled.")
    client = provider_for(connection.kind).client(connection)
    if client is None:
        raise CapabilityMissing(f"{connection.get_kind_display()} has no ticket API.")  # type: ignore[attr-defined]

    data = _person(person_id, email)
    pid = data.person.pk if data else None
    note = note_build(
        data=data,
        email=email,
        document=_document_label(document_id, pid),
        message=message if ticket_id else "",
    )
    if ticket_id and not ticket_proven and not _ticket_is_requesters(connection, ticket_id, pid):
        raise InvalidRequest(
            f"Ticket {ticket_id} is not known as {email}'s: add notes to it from its own "
            "panel, or let billingdesk open the ticket."
        )

    record: HelpdeskTicket | None = None
    if external_id:
        record = HelpdeskTicket.objects.filter(
            connection=connection, external_id=external_id
        ).first()
        if record is not None and record.note_id:
            return TicketOutcome(record.ticket_id, "", record.note_id, False, record.person_id)

    created = False
    url = ""
    if record is not None and record.ticket_id:
        target = record.ticket_id
    elif ticket_id:
        target = ticket_id
    else:
        draft = TicketDraft(
            subject=subject,
            requester_email=email,
            requester_name=requester_name.strip()[:200],
            message=message,
            external_id=external_id,
        )
        found = None
        if record is not None:  # pending: an earlier try may have opened it, then crashed
            found = client.ticket_find(draft)
            if found is None:
                logger.warning(
                    "helpdesk ticket %s was pending (an earlier try stopped): opening it",
                    external_id,
                )
        elif external_id:
            record = _pending_record(connection, external_id, pid, subject)
        ref = found or client.ticket_create(draft)
        target, url, created = ref.ticket_id, ref.url, found is None
        if record is not None:
            HelpdeskTicket.objects.filter(pk=record.pk).update(ticket_id=target)
        # Every ticket opened is recorded with its person, so later notes can be tied to it.
        external_id = external_id or f"billingdesk:{target}"
    if external_id and record is None:
        try:
            with transaction.atomic():
                record = HelpdeskTicket.objects.create(
                    connection=connection,
                    external_id=external_id,
                    ticket_id=target,
                    person_id=pid,
                    subject=subject,
                )
        except IntegrityError:
            record = HelpdeskTicket.objects.get(connection=connection, external_id=external_id)
    if attachments:
        note = Note(html=note.html, markdown=note.markdown, attachments=tuple(attachments))
    note_id = client.note_add(target, note) or "-"
    if record is not None:
        HelpdeskTicket.objects.filter(pk=record.pk).update(note_id=note_id)
    logger.info(
        "helpdesk note added: connection=%s ticket=%s created=%s", connection.pk, target, created
    )
    return TicketOutcome(target, url, note_id, created, pid)
