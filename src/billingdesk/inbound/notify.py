"""The customer who emailed a card number is told it was removed, and given their billing link.

Sent only to a sender whose address is on the person's record (so a link to one person's
billing page never goes to anyone else), marked ``Auto-Submitted: auto-replied`` (RFC 3834) so
that their auto-responder does not answer it, in the language of the document concerned.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from billingdesk.billing.models import Person
from billingdesk.documents.models import Document
from billingdesk.portal.services import portal_link_create

log = logging.getLogger(__name__)


def card_removed_notify(*, to: str, person_id: int, document_id: int | None) -> bool:
    """Email the billing link; whether it was sent (a mail failure is logged, not raised)."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return False
    language = "en"
    if document_id is not None:
        language = (
            Document.objects.filter(pk=document_id).values_list("language", flat=True).first()
            or "en"
        )[:2]
    link = portal_link_create(person=person)
    with translation.override(language):
        subject = _("Your card number was removed from your message")
        body = "\n\n".join(
            [
                _(
                    "For your security, we removed a card number from the email you sent us. "
                    "Please never send card numbers by email: our team did not receive it."
                ),
                _("To see your documents and manage your billing, use your secure billing page:"),
                link,
                _("Your message itself has reached our support team."),
            ]
        )
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("card-removed notice to person %s not sent: %s", person_id, exc)
        return False
    return True
