"""Nothing lost across a crash: the worker's sweep queues messages left waiting.

A message is stored and its job queued together, but a worker may die mid-job (the job is
requeued by ``gateways.recovery``), a web process may die between commit and enqueue with RQ,
or a retry's job may be lost with its queue. Any message still waiting for longer than
``WORKER_LOST_SECONDS`` with no job queued or live for it gets one. Safe to run in several
workers at once: processing claims the message first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billingdesk.gateways.recovery import live_task_args
from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.tasks import inbound_process_task

log = logging.getLogger(__name__)


def inbound_sweep(*, now: datetime | None = None, older_than: float | None = None) -> int:
    """Queue a job for each message waiting too long without one; how many."""
    now = now or timezone.now()
    age = settings.WORKER_LOST_SECONDS if older_than is None else older_than
    cutoff = now - timedelta(seconds=age)
    waiting = list(
        InboundMessage.objects.filter(
            status=InboundMessage.Status.RECEIVED, received_at__lte=cutoff
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    if not waiting:
        return 0
    live = live_task_args(inbound_process_task, now=now)
    queued = 0
    for pk in waiting:
        if str(pk) not in live:
            inbound_process_task.enqueue(pk)
            queued += 1
    if queued:
        log.warning("%s inbound message(s) were waiting with no job: queued", queued)
    return queued
