"""Backfill: copy a gateway account's history into the mirror, page by page, resumably.

Each page is fetched outside any transaction (it is network work), then written together
with the run's new cursor in one transaction: after a crash the run resumes at the first page
not yet written, and since writes are upserts, re-running a page changes nothing.

A kind the gateway will not list (404: the endpoint does not exist on this server; 403: a
restricted key without that permission) is skipped with its reason and the run goes on with
the next kind; the run's ``error`` keeps one ``Skipped <kind>: <reason>`` line per skipped
kind (see ``sync_run_skipped``), and the next run tries the kind again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from billingdesk.billing.services import UpsertResult, mirror_upsert
from billingdesk.core.errors import CapabilityMissing, NotFound, PermissionDenied
from billingdesk.gateways.interface import Capability, ObjectKind
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.registry import connector_for

log = logging.getLogger(__name__)

# Called after each page is stored: (kind, objects of that kind in this page, total for
# kind if known).
PageCallback = Callable[[ObjectKind, int, int | None], None]
# Called when a kind is skipped: (kind, reason).
SkipCallback = Callable[[ObjectKind, str], None]

_SKIPPED = "Skipped "


def sync_run_skipped(run: SyncRun) -> dict[str, str]:
    """The kinds this run skipped, with the reason, from its ``error`` text."""
    skipped: dict[str, str] = {}
    for line in run.error.splitlines():
        if line.startswith(_SKIPPED) and ": " in line:
            kind, _, reason = line.removeprefix(_SKIPPED).partition(": ")
            skipped[kind] = reason
    return skipped


def _skipped_text(skipped: dict[str, str]) -> str:
    return "\n".join(f"{_SKIPPED}{kind}: {reason}" for kind, reason in skipped.items())


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
    *,
    run: SyncRun,
    on_page: PageCallback | None = None,
    max_pages: int | None = None,
    on_skip: SkipCallback | None = None,
) -> UpsertResult:
    """Walk every kind from where ``run`` stopped; ``max_pages`` bounds one call (tests)."""
    account = run.account
    connector = connector_for(account)
    kinds = connector.backfill_kinds
    total = UpsertResult()
    skipped = sync_run_skipped(run)
    if run.status != SyncRun.Status.RUNNING:
        run.status = SyncRun.Status.RUNNING
        run.error = _skipped_text(skipped)
        run.save(update_fields=["status", "error", "updated_at"])
    pages = 0
    try:
        while run.kind_index < len(kinds):
            if max_pages is not None and pages >= max_pages:
                return total
            kind = kinds[run.kind_index]
            try:
                page = connector.list_page(kind, run.cursor or None)
            except (NotFound, PermissionDenied) as exc:
                # This listing is unreadable here; the others may not be.
                skipped[kind.value] = " ".join(exc.message.split())
                run.kind_index += 1
                run.cursor = ""
                run.error = _skipped_text(skipped)
                run.save(update_fields=["kind_index", "cursor", "error", "updated_at"])
                log.warning("sync of %s skipped %s: %s", account, kind.value, exc.message)
                if on_skip is not None:
                    on_skip(kind, skipped[kind.value])
                continue
            own = 0
            with transaction.atomic():
                total += mirror_upsert(account=account, objects=page.objects)
                # Count each object under its own kind, once: those of the listed kind, and
                # those embedded in it that have no listing of their own (a Stripe charge
                # page carries its refunds, a customer page its tax ids); a card embedded
                # in a customer's page is counted by the payment methods' own listing.
                for obj in page.objects:
                    if obj.kind is kind:
                        own += 1
                    elif obj.kind in kinds:
                        continue
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
                on_page(kind, own, None)
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.error = "\n".join(
            filter(None, [_skipped_text(skipped), f"{type(exc).__name__}: {exc}"])
        )
        run.save(update_fields=["status", "error", "updated_at"])
        log.warning(
            "sync of %s stopped at %s page %s: %s", account, run.kind_index, run.cursor, exc
        )
        raise
    run.status = SyncRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "updated_at"])
    return total


def account_backfill(
    *,
    account: GatewayAccount,
    on_page: PageCallback | None = None,
    on_skip: SkipCallback | None = None,
) -> SyncRun:
    """Start or resume the account's backfill and run it to the end."""
    run = sync_run_start(account=account)
    sync_run_execute(run=run, on_page=on_page, on_skip=on_skip)
    return run
