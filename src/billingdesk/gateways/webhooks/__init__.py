"""Webhook intake and processing, the same for every gateway.

Intake (in the web request) does as little as possible: verify the signature, read the event
id, then store the raw request with its outcome in one transaction, before answering.
Processing (in a worker) parses events into mirror objects and upserts them in batches.

One queued job per account, not per event: intake sets the account's ``drain_requested``
flag in the same transaction as the event, and only the delivery that turns the flag on
queues a ``webhook_account_drain``. The drain clears the flag before it reads, so an event
stored after that sets it again and queues the next drain: nothing waits without a job.
Idempotency comes from the event id (one canonical row per event; repeated deliveries are
kept as duplicates) and from the mirror's version check (an older object never overwrites a
newer one).

The package is split by job: ``intake`` (the web request: verify, store, request a drain)
and ``processing`` (parse and upsert a batch, record each event's outcome). The queued jobs
(``webhook_account_drain``, ``webhook_event_process``) and the requests for them stay in this
module on purpose: a job is stored under its function's import path
(``billingdesk.gateways.webhooks.webhook_account_drain``), which crash recovery looks up,
so jobs queued before the split are still found. Import everything from here.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import task

from billingdesk.core.tasks import enqueue_in_transaction
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks.intake import ENDPOINT_CACHE_SECONDS as ENDPOINT_CACHE_SECONDS
from billingdesk.gateways.webhooks.intake import IntakeResult, webhook_endpoint_get, webhook_receive
from billingdesk.gateways.webhooks.intake import _store as _store
from billingdesk.gateways.webhooks.processing import _apply as _apply

__all__ = [
    "DRAIN_MAX_BATCHES",
    "ENDPOINT_CACHE_SECONDS",
    "PROCESS_BATCH",
    "IntakeResult",
    "webhook_account_drain",
    "webhook_drain_request",
    "webhook_endpoint_get",
    "webhook_event_process",
    "webhook_events_requeue",
    "webhook_receive",
]


def webhook_drain_request(*, account_id: UUID | str, force: bool = False) -> bool:
    """Queue a drain of the account's pending events unless one is queued; True if queued.

    ``force`` queues one even when the flag says a drain is queued: after a crash the flag
    may be set with no job left to clear it.
    """
    with transaction.atomic():
        accounts = GatewayAccount.objects.filter(pk=account_id)
        if not force:
            accounts = accounts.filter(drain_requested=False)
        if not accounts.update(drain_requested=True):
            return False
        enqueue_in_transaction(
            webhook_account_drain, str(account_id), delay=settings.WEBHOOK_DRAIN_DELAY_SECONDS
        )
    return True


# How many pending events a drain (or a retry) applies in one transaction. The mirror
# writes a batch in a few queries, so the per-event cost is small once batched.
PROCESS_BATCH = 100
# A drain stops after this many batches and queues a follow-up, so other jobs (and other
# accounts' drains) get the worker in between while events keep arriving.
DRAIN_MAX_BATCHES = 20


@task()
def webhook_account_drain(account_id: str) -> str:
    """Apply all pending events of one account to the mirror, a batch at a time.

    Clears the account's ``drain_requested`` flag first, in its own committed transaction:
    an event stored from then on requests (and queues) another drain, so none is left
    without a job. Safe to run twice or concurrently: batches are locked (skipping rows
    another drain holds) and only pending events are taken.
    """
    with transaction.atomic():
        # FOR UPDATE waits for the intakes in flight (they hold FOR KEY SHARE on the row),
        # so every event stored while the flag was set is committed and visible below.
        locked = list(
            GatewayAccount.objects.select_for_update()
            .filter(pk=account_id)
            .values_list("pk", flat=True)
        )
        if not locked:
            return "skipped: no such account"
        GatewayAccount.objects.filter(pk=account_id).update(drain_requested=False)
    account = GatewayAccount.objects.get(pk=account_id)
    applied = taken = 0
    after = 0
    for _ in range(DRAIN_MAX_BATCHES):
        # Read without a lock or a transaction: parsing may call the gateway (a thin event
        # is re-fetched), and no row or write lock may be held while it does. ``_apply``
        # then locks what is still pending and writes in one short transaction.
        batch = list(
            WebhookEvent.objects.filter(
                account=account, status=WebhookEvent.Status.PENDING, pk__gt=after
            )
            .defer("headers")  # not needed to apply an event; decoding each costs
            .order_by("pk")[:PROCESS_BATCH]
        )
        if batch:
            after = batch[-1].pk
            taken += len(batch)
            applied += len(_apply(account, batch))
        if len(batch) < PROCESS_BATCH:
            # Drained: an event stored since the flag was cleared has queued the next drain.
            break
    else:
        webhook_drain_request(account_id=account_id)
    return f"applied {applied} of {taken} event(s)"


@task()
def webhook_event_process(event_pk: int) -> str:
    """Apply one stored event (and others pending for its account): retries and the admin.

    Safe to run twice or concurrently: events are locked and only pending or failed ones
    are applied.
    """
    event = WebhookEvent.objects.select_related("account").filter(pk=event_pk).first()
    if event is None or event.status not in (
        WebhookEvent.Status.PENDING,
        WebhookEvent.Status.FAILED,
    ):
        return "skipped"
    batch = [event]
    if event.status == WebhookEvent.Status.PENDING:
        batch += list(
            WebhookEvent.objects.filter(
                account_id=event.account_id, status=WebhookEvent.Status.PENDING
            )
            .exclude(pk=event.pk)
            .defer("headers")
            .order_by("pk")[: PROCESS_BATCH - 1]
        )
    applied = _apply(event.account, batch, retry=event.pk)
    return "processed" if event.pk in applied else "failed"


def webhook_events_requeue(*, older_than_seconds: int = 0) -> int:
    """Queue a drain for each account with events left pending; return how many events.

    Run by ``billingdesk worker`` at start: after a crash an account's flag may say a drain
    is queued when none will run (the job died), so a drain is queued regardless of it.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    per_account = (
        WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING, received_at__lte=cutoff)
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
    )
    total = 0
    for row in per_account:
        webhook_drain_request(account_id=row["account_id"], force=True)
        total += row["n"]
    return total
