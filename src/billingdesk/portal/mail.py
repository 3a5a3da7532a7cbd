"""Emails of the customer billing pages: a billing link asked for by address, and the
confirmation of a question. Sent through Django's configured email backend, like documents.

``link_email_send`` runs in the background (``tasks.portal_link_email_task``): the form's
answer and timing are the same whether or not the address is known, because the look-up
happens here, after the answer was sent.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billingdesk.billing.identity import normalize_email
from billingdesk.billing.models import Person
from billingdesk.core.errors import GatewayUnavailable
from billingdesk.portal.services import LINK_MAX_AGE, portal_link_create

# One address shared by a few people (a family, an office) gets a link for each, up to this.
MAX_PEOPLE_PER_EMAIL = 3


def persons_for_email(email: str) -> list[Person]:
    """The people a customer typing ``email`` may be: gateway customers and agents' extra
    addresses carrying it (normalised), oldest first."""
    key = normalize_email(email)
    if not key:
        return []
    people = Person.objects.filter(
        Q(customers__email_normalized=key) | Q(emails__email_normalized=key)
    ).distinct()
    return list(people.order_by("pk")[:MAX_PEOPLE_PER_EMAIL])


def _send(*, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"portal/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"portal/email/{template}.html", context), "text/html"
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise GatewayUnavailable(f"the mail server refused or failed: {exc}") from exc


def link_email_send(*, email: str, language: str, person: Person | None = None) -> int:
    """Email a fresh billing link to ``email`` for each person it belongs to (or for
    ``person``, when an agent sends it); the number of emails sent (0: address unknown)."""
    people = [person] if person is not None else persons_for_email(email)
    days = max(1, LINK_MAX_AGE // 86400)
    with translation.override(language or settings.LANGUAGE_CODE):
        for who in people:
            _send(
                to=email,
                subject=_("Your billing link"),
                template="link",
                context={"person": who, "link": portal_link_create(person=who), "days": days},
            )
    return len(people)


def question_confirmation_send(*, email: str, language: str, subject: str, reference: str) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        _send(
            to=email,
            subject=_("We received your question: %(subject)s") % {"subject": subject},
            template="question",
            context={"subject": subject, "reference": reference},
        )
