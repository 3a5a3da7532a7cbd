"""Background jobs of the customer billing pages: take ids (or an address), idempotent."""

from __future__ import annotations

import logging

from django_tasks import task

from billingdesk.core.errors import OperationalError
from billingdesk.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# A link email that cannot be sent is retried a few times, then dropped (the customer asks
# again): the address is not kept anywhere else.
LINK_EMAIL_ATTEMPTS = 5


@task()
def portal_link_email_task(
    email: str, language: str, person_id: int | None = None, attempt: int = 1
) -> str:
    from billingdesk.billing.models import Person
    from billingdesk.portal.mail import link_email_send

    person = Person.objects.filter(pk=person_id).first() if person_id is not None else None
    if person_id is not None and person is None:
        return "person gone"
    try:
        sent = link_email_send(email=email, language=language, person=person)
    except OperationalError as exc:
        if attempt >= LINK_EMAIL_ATTEMPTS:
            logger.error("billing link email dropped after %s attempts: %s", attempt, exc.message)
            return "dropped"
        logger.warning("billing link email failed, retrying: %s", exc.message)
        enqueue_on_commit(
            portal_link_email_task, email, language, person_id, attempt + 1, delay=60 * attempt
        )
        return "retry scheduled"
    return f"{sent} sent"


@task()
def question_deliver_task(question_id: int) -> str:
    from billingdesk.portal.questions import question_deliver

    return question_deliver(question_id=question_id)
