"""The delivery job: one attempt, then itself again after the backoff delay."""

from __future__ import annotations

from django_tasks import task

from billingdesk.api.webhooks.services import delivery_attempt
from billingdesk.core.tasks import enqueue_on_commit


@task()
def webhook_deliver_task(delivery_id: int) -> str:
    delay = delivery_attempt(delivery_id=delivery_id)
    if delay is None:
        return "done"
    enqueue_on_commit(webhook_deliver_task, delivery_id, delay=delay)
    return f"retry in {delay:.0f} s"
