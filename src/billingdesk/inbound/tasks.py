"""The background job that processes a stored inbound message."""

from __future__ import annotations

from django_tasks import task

from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.inbound.processing import message_process


@task()
def inbound_process_task(message_pk: int) -> str:
    """Process one inbound message; retried later (with back-off) while the helpdesk is down."""
    outcome, retry_in = message_process(message_pk)
    if retry_in is not None:
        enqueue_on_commit(inbound_process_task, message_pk, delay=retry_in)
    return outcome
