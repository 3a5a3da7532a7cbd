"""Backfill: copy a gateway account's history into the mirror, page by page, resumably.

Each page is fetched outside any transaction (it is network work), then written together
with the run's new cursor in one transaction: after a crash the run resumes at the first page
not yet written, and since writes are upserts, re-running a page changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from billingdesk.billing.services import UpsertResult, mirror_upsert
from billingdesk.core.errors import CapabilityMissing
from billingdesk.gateways.interface import Capability, ObjectKind
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.registry import connector_for

log = logging.getLogger(__name__)

# Called after each page is stored: (kind, objects in this page, total for kind if known).
PageCallback = Callable[[ObjectKind, int, int | None], None]


def sync_run_start(*, account: GatewayAccount) -> SyncRun:
    """The account's unfinished run (to resume it), or a new one."""
    connector = connector_for(account)
    if not connector.supports(Capability.BACKFILL):
        raise CapabilityMissing(f"{connector.display_name} accounts cannot be backfilled")
    unfinished = SyncRun.objects.filter(
        account=account, status__in=[SyncRun.Status.RUNNING, SyncRun.Status.FAILED]
    ).first()
    if unfinished is not None:
        return unfinished
    try:
        with transaction.atomic():
            return SyncRun.objects.create(account=account)
    except IntegrityError:  # another process started one at the same moment
        return SyncRun.objects.get(
            account=account, status__in=[SyncRun.Status.RUNNING, SyncRun.Status.FAILED]
        )


def sync_run_execute(
    *, run: SyncRun, on_page: PageCallback | None = None, max_pages: int | None = None
) -> UpsertResult:
    """Walk every kind from where ``run`` stopped; ``max_pages`` bounds one call (tests)."""
    account = run.account
    connector = connector_for(account)
    kinds = connector.backfill_kinds
    total = UpsertResult()
    if run.status != SyncRun.Status.RUNNING:
        run.status = SyncRun.Status.RUNNING
        run.error = ""
        run.save(update_fields=["status", "error", "updated_at"])
    pages = 0
    try:
        while run.kind_index < len(kinds):
            if max_pages is not None and pages >= max_pages:
                return total
            kind = kinds[run.kind_index]
            page = connector.list_page(kind, run.cursor or None)
            with transaction.atomic():
                total += mirror_upsert(account=account, objects=page.objects)
                # Count objects under their own kind: a page may embed other kinds (a
                # Stripe charge page carries its refunds, a customer page its tax ids).
                for obj in page.objects:
                    run.counts[obj.kind.value] = run.counts.get(obj.kind.value, 0) + 1
                if page.next_cursor:
                    run.cursor = page.next_cursor
                else:
                    run.kind_index += 1
                    run.cursor = ""
                run.pages += 1
                run.save(update_fields=["counts", "cursor", "kind_index", "pages", "updated_at"])
            pages += 1
            if on_page is not None:
                on_page(kind, len(page.objects), None)
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.save(update_fields=["status", "error", "updated_at"])
        log.warning(
            "sync of %s stopped at %s page %s: %s", account, run.kind_index, run.cursor, exc
        )
        raise
    run.status = SyncRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "updated_at"])
    return total


def account_backfill(*, account: GatewayAccount, on_page: PageCallback | None = None) -> SyncRun:
    """Start or resume the account's backfill and run it to the end."""
    run = sync_run_start(account=account)
    sync_run_execute(run=run, on_page=on_page)
    return run
