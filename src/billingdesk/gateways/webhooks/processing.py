"""Webhook processing, in a worker: parse a batch of stored events, upsert their objects in
one short transaction and record each event's outcome (failures retried with backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import MalformedPayload, UserFacingError
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.gateways.interface import Capability, Connector, ObjectKind, ParsedEvent
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.registry import connector_for

log = logging.getLogger(__name__)

# Objects re-read from the gateway after one batch at most (see ``_ties_settle``).
TIE_REFETCH_MAX = 50


def _apply(
    account: GatewayAccount, batch: list[WebhookEvent], *, retry: int | None = None
) -> set[int]:
    """Parse and upsert a batch of events; record each one's outcome; return those applied.

    Two steps, so that no transaction is open during network work: every event is parsed
    first, outside any transaction (``parse_webhook`` may fetch a thin event's object from
    the gateway); then one short transaction locks those still pending (``SKIP LOCKED``:
    one another drain holds is left to it; ``retry`` names a failed event that may be
    taken too), writes the mirror and records each outcome. An event taken by another
    drain in between is simply not written here; the mirror's version check makes a late
    write of an older object harmless anyway. Objects whose event tied the stored version
    with another state are then read again from the gateway (``_ties_settle``).
    """
    connector = connector_for(account)
    outcomes: dict[int, ParsedEvent | Exception] = {}
    for event in batch:
        try:
            outcomes[event.pk] = connector.parse_delivery(
                bytes(event.body), event_type=event.event_type
            )
        except Exception as exc:
            outcomes[event.pk] = exc
    takeable = Q(status=WebhookEvent.Status.PENDING)
    if retry is not None:
        takeable |= Q(pk=retry, status=WebhookEvent.Status.FAILED)
    ties: set[tuple[ObjectKind, str]] = set()
    with transaction.atomic():
        locked = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(takeable, pk__in=list(outcomes))
            .only("pk", "status", "attempts", "error")
            .order_by("pk")
        )
        applied = _record(account, locked, outcomes, ties)
    if ties:
        _ties_settle(account, connector, ties)
    return applied


def _ties_settle(
    account: GatewayAccount, connector: Connector, ties: set[tuple[ObjectKind, str]]
) -> None:
    """Read the current state of objects written over another state of the same version.

    Two events stamped with the same time (Stripe's whole seconds; it promises no order)
    that carry different states of an object with no forward order (a customer's email, a
    subscription's plan) are applied in arrival order, which may be the wrong one. The
    gateway's current state settles it: it is versioned at the read, so it wins over both.
    A failed read leaves the arrival order (logged); the next event or re-sync corrects it.
    """
    if not connector.supports(Capability.FETCH):
        return
    fetched = []
    for kind, object_id in sorted(ties)[:TIE_REFETCH_MAX]:
        try:
            fetched.extend(connector.object_fetch(kind=kind, object_id=object_id))
        except Exception as exc:  # the events are applied; this only corrects their order
            log.warning("could not re-read %s %s after a version tie: %s", kind, object_id, exc)
    if fetched:
        with transaction.atomic():
            mirror_upsert(account=account, objects=fetched)


def _record(
    account: GatewayAccount,
    events: list[WebhookEvent],
    outcomes: Mapping[int, ParsedEvent | Exception],
    ties: set[tuple[ObjectKind, str]],
) -> set[int]:
    parsed: list[tuple[WebhookEvent, ParsedEvent]] = []
    for event in events:
        event.attempts += 1
        outcome = outcomes[event.pk]
        if isinstance(outcome, Exception):
            _fail(event, outcome)
        else:
            parsed.append((event, outcome))
    applied: list[WebhookEvent] = []
    try:
        with transaction.atomic():
            upserted = mirror_upsert(
                account=account, objects=[o for _, p in parsed for o in p.objects]
            )
        ties |= upserted.ties
        applied = [event for event, _ in parsed]
    except Exception as batch_exc:
        if len(parsed) == 1:
            _fail(parsed[0][0], batch_exc)
        else:
            # One bad object spoils the batch write: apply the events one by one instead.
            for event, result in parsed:
                try:
                    with transaction.atomic():
                        ties |= mirror_upsert(account=account, objects=result.objects).ties
                    applied.append(event)
                except Exception as exc:
                    _fail(event, exc)
    # One UPDATE for the batch; each applied event's attempts went up by one above.
    WebhookEvent.objects.filter(pk__in=[event.pk for event in applied]).update(
        status=WebhookEvent.Status.PROCESSED,
        processed_at=timezone.now(),
        error="",
        attempts=F("attempts") + 1,
    )
    return {event.pk for event in applied}


def _fail(event: WebhookEvent, exc: Exception) -> None:
    permanent = isinstance(exc, (MalformedPayload, UserFacingError))
    event.status = WebhookEvent.Status.FAILED
    event.error = f"{type(exc).__name__}: {exc}"
    event.save(update_fields=["status", "error", "attempts"])
    if not permanent and event.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        # The job lives in the package (its stored import path), which imports this module.
        from billingdesk.gateways.webhooks import webhook_event_process

        enqueue_on_commit(webhook_event_process, event.pk, delay=5 * 2**event.attempts)
    log.warning("webhook %s failed (attempt %s): %s", event.pk, event.attempts, exc)
