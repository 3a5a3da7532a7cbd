"""Providers' inbound webhooks (django-anymail): each message goes to the same intake.

anymail verifies each provider as it does (Mailgun's HMAC, MailerSend's, Postal's RSA,
Resend's Svix signature; Basic auth ``ANYMAIL["WEBHOOK_SECRET"]`` for the others). Fail
closed: a provider that anymail only authenticates by Basic auth is refused (400) while no
webhook secret is configured, and a Mailgun signature older than five minutes is refused, so a
captured request cannot be replayed. A storage failure raises: anymail answers 400 and the
provider retries.
"""

from __future__ import annotations

import time
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.dispatch import receiver

from billingdesk.core.signing import DEFAULT_TOLERANCE
from billingdesk.inbound.intake import message_store

# anymail always checks a signature of its own for these (AM:anymail/webhooks/*.py): their
# views refuse to work without the key.
SIGNED_ESPS = frozenset({"mailgun", "mailersend", "postal", "mandrill"})
# anymail checks these only when their key is set (Resend's Svix signature is optional in
# anymail: without RESEND_INBOUND_SECRET it would accept anyone), so here they need the key
# or Basic auth.
SIGNED_IF_KEYED = {"resend": "RESEND_INBOUND_SECRET"}


def authenticated(esp: str) -> bool:
    """Whether a provider's inbound requests are authenticated here (signature or Basic auth)."""
    if esp in SIGNED_ESPS or settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return True
    key = SIGNED_IF_KEYED.get(esp)
    return bool(key and settings.ANYMAIL.get(key))


def _mailgun_fresh(event: AnymailInboundEvent) -> bool:
    request: Any = event.esp_event
    try:
        timestamp = int(request.POST.get("timestamp", "0"))
    except (AttributeError, ValueError):
        return False
    return abs(time.time() - timestamp) <= DEFAULT_TOLERANCE


@receiver(inbound, dispatch_uid="billingdesk-inbound")
def inbound_received(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    esp = esp_name.lower().replace(" ", "_")
    if not authenticated(esp):
        raise SuspiciousOperation(
            f"{esp_name} inbound webhooks need BILLINGDESK_ANYMAIL_WEBHOOK_SECRET (Basic auth)"
            " or the provider's signing key"
        )
    if esp == "mailgun" and not _mailgun_fresh(event):
        raise SuspiciousOperation("Mailgun inbound webhook signature is stale")
    message = event.message
    if message is None:
        raise SuspiciousOperation(f"{esp_name} inbound webhook without a message")
    message_store(
        message.as_bytes(),
        source=esp[:30],
        envelope_from=message.envelope_sender,
        envelope_to=[message.envelope_recipient] if message.envelope_recipient else [],
    )
