"""Billing questions asked on the customer pages become tickets in the connected helpdesk.

``question_ask`` stores the question first (and enqueues its delivery in the same
transaction when the queue lives in the database), so a helpdesk that is down loses nothing:
``question_deliver`` (a task) opens the ticket with the billing-context note the helpdesk
ticket service builds, retrying with back-off while the helpdesk is unavailable. The
external id ``billingdesk-portal-question-<id>`` makes a retry find the ticket opened before.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billingdesk.billing.models import Charge, Person
from billingdesk.core.errors import GatewayUnavailable, OperationalError, UserFacingError
from billingdesk.core.money import day_format, money_format
from billingdesk.core.tasks import enqueue_in_transaction, enqueue_on_commit
from billingdesk.documents.models import Document
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.registry import provider_for
from billingdesk.helpdesks.services import ticket_create_with_context
from billingdesk.portal.models import Question

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
Status = Question.Status


def question_ask(
    *,
    person: Person,
    email: str,
    subject: str,
    message: str,
    language: str,
    document: Document | None = None,
    charge: Charge | None = None,
    ip: str | None = None,
) -> Question:
    """Store the question and queue its delivery to the helpdesk (the caller checked that
    ``document``/``charge`` are this person's)."""
    from billingdesk.portal.tasks import question_deliver_task

    with transaction.atomic():
        question = Question.objects.create(
            person=person, email=email, subject=subject, message=message,
            language=language, document=document, charge=charge, ip=ip or None,
        )  # fmt: skip
        enqueue_in_transaction(question_deliver_task, question.pk)
    return question


def helpdesk_for_questions() -> HelpdeskConnection | None:
    """``BILLINGDESK_PORTAL_HELPDESK`` (a connection's name), else the first enabled connection
    whose helpdesk has a ticket API."""
    wanted = str(getattr(settings, "BILLINGDESK_PORTAL_HELPDESK", "") or "")
    connections = HelpdeskConnection.objects.filter(enabled=True).order_by("name")
    if wanted:
        connections = connections.filter(name=wanted)
    for connection in connections:
        if provider_for(connection.kind).client(connection) is not None:
            return connection
    return None


def _context_line(question: Question) -> str:
    charge = question.charge
    if charge is None:
        return ""
    what = charge.description or charge.product or charge.gateway_id
    at = charge.gateway_created_at or charge.gateway_updated_at
    amount = money_format(charge.amount, charge.currency, locale="en")
    return (
        f"About the payment {charge.gateway_id} ({what}, {amount}, {day_format(at, locale='en')})"
    )


def question_deliver(*, question_id: int) -> str:
    """Open the ticket for a stored question; idempotent (a delivered question is left)."""
    question = Question.objects.select_related("person", "charge").filter(pk=question_id).first()
    if question is None or question.status != Status.PENDING:
        return "nothing to do"
    connection = helpdesk_for_questions()
    if connection is None:
        Question.objects.filter(pk=question.pk).update(status=Status.NO_HELPDESK)
        return "no helpdesk"
    context = _context_line(question)
    message = f"{question.message}\n\n{context}" if context else question.message
    try:
        outcome = ticket_create_with_context(
            connection=connection,
            requester_email=question.email,
            requester_name=question.person.name,
            subject=question.subject,
            message=message,
            external_id=f"billingdesk-portal-question-{question.pk}",
            person_id=question.person_id,
            document_id=question.document_id,
        )
    except OperationalError as exc:
        attempts = question.attempts + 1
        status = Status.PENDING if attempts < MAX_ATTEMPTS else Status.FAILED
        Question.objects.filter(pk=question.pk).update(
            attempts=attempts, status=status, error=exc.message[:2000]
        )
        if status == Status.PENDING:
            from billingdesk.portal.tasks import question_deliver_task

            delay = min(3600, 30 * 2**attempts)
            logger.warning("question %s: helpdesk unavailable, retry in %ss", question.pk, delay)
            enqueue_on_commit(question_deliver_task, question.pk, delay=delay)
            return "retry scheduled"
        return "failed"
    except UserFacingError as exc:
        Question.objects.filter(pk=question.pk).update(
            attempts=question.attempts + 1, status=Status.FAILED, error=exc.message[:2000]
        )
        return f"refused: {exc.message}"
    Question.objects.filter(pk=question.pk).update(
        status=Status.SENT, ticket_id=outcome.ticket_id, sent_at=timezone.now(), error="",
        attempts=question.attempts + 1,
    )  # fmt: skip
    _confirm(question)
    return f"ticket {outcome.ticket_id}"


def _confirm(question: Question) -> None:
    from billingdesk.portal.mail import question_confirmation_send

    try:
        question_confirmation_send(
            email=question.email,
            language=question.language,
            subject=question.subject,
            reference=f"Q-{question.pk}",
        )
    except GatewayUnavailable as exc:
        # The ticket exists and the page confirmed it: a lost confirmation is only logged.
        logger.warning("question %s: confirmation email failed: %s", question.pk, exc.message)
