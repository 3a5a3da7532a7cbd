"""Webhook intake and processing, the same for every gateway.

Intake (in the web request) does as little as possible: verify the signature, read the event
id, then store the raw request with its outcome and, for a verified event, its processing job,
in one transaction, before answering. Processing (in a worker) parses the event into mirror
objects and upserts them. Idempotency comes from
the event id (one canonical row per event; repeated deliveries are kept as duplicates) and
from the mirror's version check (an older object never overwrites a newer one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import MalformedPayload, SignatureInvalid, UserFacingError
from billingdesk.core.tasks import enqueue_in_transaction, enqueue_on_commit
from billingdesk.gateways.interface import ParsedEvent
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.registry import connector_for

log = logging.getLogger(__name__)

# Request headers never kept with a stored event.
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


@dataclass(frozen=True, slots=True)
class IntakeResult:
    event: WebhookEvent
    status_code: int
    message: str


def webhook_receive(
    *, account: GatewayAccount, headers: Mapping[str, str], body: bytes
) -> IntakeResult:
    """Store one delivery and queue its processing; say what to answer the gateway.

    The signature is checked first (CPU only, microseconds), then the raw request is stored
    with its outcome in one write: verified events together with their processing job, so
    one transaction per delivery. Nothing is acknowledged before it is stored, so a crash
    in between only means the gateway delivers again.
    """
    kept = {k.lower(): v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
    connector = connector_for(account)
    try:
        connector.verify_webhook(headers=kept, body=body)
        envelope = connector.read_envelope(body)
    except (SignatureInvalid, MalformedPayload) as exc:
        # Kept all the same: a record of what was sent, and by whom, for investigation.
        event = WebhookEvent.objects.create(
            account=account,
            headers=kept,
            body=body,
            status=WebhookEvent.Status.REJECTED,
            error=exc.message,
        )
        return IntakeResult(event, 400, exc.message)
    verified = {
        "account": account,
        "headers": kept,
        "body": body,
        "event_id": envelope.id[:255],
        "event_type": envelope.type[:120],
    }
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(**verified, status=WebhookEvent.Status.PENDING)
            enqueue_in_transaction(webhook_event_process, event.pk)
    except IntegrityError:
        event = WebhookEvent.objects.create(**verified, status=WebhookEvent.Status.DUPLICATE)
        return IntakeResult(event, 200, "duplicate delivery, already received")
    return IntakeResult(event, 200, "received")


# How many pending events of one account a processing job applies at once. The mirror writes
# a batch in a few queries, so a job per event would spend most of its time on overhead;
# the jobs of events already applied by another job just find them processed.
PROCESS_BATCH = 100


@task()
def webhook_event_process(event_pk: int) -> str:
    """Apply a stored event (and others pending for its account) to the mirror.

    Safe to run twice or concurrently: events are locked and only pending or failed ones
    are applied.
    """
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update().select_related("account").filter(pk=event_pk)
        ).first()
        if event is None or event.status not in (
            WebhookEvent.Status.PENDING,
            WebhookEvent.Status.FAILED,
        ):
            return "skipped"
        batch = [event]
        if event.status == WebhookEvent.Status.PENDING:
            batch += list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(account_id=event.account_id, status=WebhookEvent.Status.PENDING)
                .exclude(pk=event.pk)
                .order_by("pk")[: PROCESS_BATCH - 1]
            )
        applied = _apply(event.account, batch)
    return "processed" if event.pk in applied else "failed"


def _apply(account: GatewayAccount, batch: list[WebhookEvent]) -> set[int]:
    """Parse and upsert a batch of events; record each one's outcome; return those applied."""
    connector = connector_for(account)
    parsed: list[tuple[WebhookEvent, ParsedEvent]] = []
    for event in batch:
        event.attempts += 1
        try:
            parsed.append((event, connector.parse_webhook(bytes(event.body))))
        except Exception as exc:
            _fail(event, exc)
    applied: list[WebhookEvent] = []
    try:
        with transaction.atomic():
            mirror_upsert(account=account, objects=[o for _, p in parsed for o in p.objects])
        applied = [event for event, _ in parsed]
    except Exception as batch_exc:
        if len(parsed) == 1:
            _fail(parsed[0][0], batch_exc)
        else:
            # One bad object spoils the batch write: apply the events one by one instead.
            for event, result in parsed:
                try:
                    with transaction.atomic():
                        mirror_upsert(account=account, objects=result.objects)
                    applied.append(event)
                except Exception as exc:
                    _fail(event, exc)
    now = timezone.now()
    for event in applied:
        event.status = WebhookEvent.Status.PROCESSED
        event.processed_at = now
        event.error = ""
    WebhookEvent.objects.bulk_update(applied, ["status", "processed_at", "error", "attempts"])
    return {event.pk for event in applied}


def _fail(event: WebhookEvent, exc: Exception) -> None:
    permanent = isinstance(exc, (MalformedPayload, UserFacingError))
    event.status = WebhookEvent.Status.FAILED
    event.error = f"{type(exc).__name__}: {exc}"
    event.save(update_fields=["status", "error", "attempts"])
    if not permanent and event.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        enqueue_on_commit(webhook_event_process, event.pk, delay=5 * 2**event.attempts)
    log.warning("webhook %s failed (attempt %s): %s", event.pk, event.attempts, exc)


def webhook_events_requeue(*, older_than_seconds: int = 60) -> int:
    """Enqueue again events left pending, e.g. by a crash between commit and enqueue."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pks = list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.PENDING, received_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in pks:
        webhook_event_process.enqueue(pk)
    return len(pks)
