"""Background jobs of the sync engine."""

from __future__ import annotations

from django_tasks import task

from billingdesk.core.errors import OperationalError
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill


@task()
def account_backfill_task(account_id: str) -> str:
    """Backfill (or resume backfilling) one account; retried later on a gateway outage."""
    account = GatewayAccount.objects.get(pk=account_id)
    try:
        run = account_backfill(account=account)
    except OperationalError:
        enqueue_on_commit(account_backfill_task, account_id, delay=60)
        return "retry scheduled"
    return f"done: {sum(run.counts.values())} objects"
