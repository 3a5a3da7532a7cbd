"""Delivering sandbox events as signed webhooks to the account's normal intake URL.

The sandbox is a gateway like any other, so it reaches billingdesk over HTTP: the event's JSON
is POSTed to ``account.webhook_url`` with a ``Billingdesk-Signature: t=…,v1=…`` header made
with the account's webhook secret. A failed delivery (network error or non-2xx answer) is
recorded on the event and retried later with exponential backoff, a bounded number of times,
as Stripe does. No transaction is held open during the HTTP call: on SQLite the receiving end
must be able to write.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from billingdesk.core.signing import sign_header
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.gateways.sandbox.models import SandboxEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Billingdesk-Signature"
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10


def retry_delay(attempts: int) -> int:
    """Seconds before the next try: 10 s, 20 s, 40 s … capped at an hour."""
    return int(min(10 * 2 ** (attempts - 1), 3600))


def event_body(event: SandboxEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


@task()
def event_deliver(event_pk: int) -> str:
    """POST one event to its account's webhook URL; reschedules itself on failure."""
    event = SandboxEvent.objects.select_related("account").filter(pk=event_pk).first()
    if event is None or event.delivery not in (
        SandboxEvent.Delivery.PENDING,
        SandboxEvent.Delivery.FAILED,
    ):
        return "skipped"
    account = event.account
    body = event_body(event)
    request = urllib.request.Request(  # noqa: S310 - the URL is our own settings.BASE_URL
        account.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "billingdesk-sandbox/1",
            SIGNATURE_HEADER: sign_header(body, account.webhook_secret),
        },
    )
    status: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = f"HTTP {exc.code}: {exc.read(500).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivered = status is not None and 200 <= status < 300
    with transaction.atomic():
        event.attempts += 1
        event.last_status = status
        event.last_error = error
        event.last_attempt_at = timezone.now()
        if delivered:
            event.delivery = SandboxEvent.Delivery.DELIVERED
            event.delivered_at = event.last_attempt_at
        elif event.attempts < MAX_ATTEMPTS:
            # Stays pending: the next try is scheduled, and the error is kept to show why.
            event.delivery = SandboxEvent.Delivery.PENDING
            enqueue_on_commit(event_deliver, event.pk, delay=retry_delay(event.attempts))
        else:
            event.delivery = SandboxEvent.Delivery.FAILED
        event.save(
            update_fields=[
                "attempts",
                "last_status",
                "last_error",
                "last_attempt_at",
                "delivery",
                "delivered_at",
            ]
        )
    if not delivered:
        log.warning(
            "sandbox event %s delivery %s failed: %s", event.event_id, event.attempts, error
        )
        return "failed"
    return "delivered"
