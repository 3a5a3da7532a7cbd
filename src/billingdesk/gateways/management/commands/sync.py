"""`billingdesk sync`: backfill gateway accounts from the terminal, with progress.

The same engine as the background backfill (``billingdesk.gateways.sync``): each page is
committed with its cursor, so an interrupted sync (Ctrl-C, crash, gateway outage) resumes
where it stopped the next time it runs, here or in a worker.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from argparse import ArgumentParser
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from billingdesk.core.errors import BillingdeskError, OperationalError, UserFacingError
from billingdesk.core.management import require_migrated
from billingdesk.gateways.interface import Capability, Connector, ObjectKind
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.sync import sync_run_execute, sync_run_skipped, sync_run_start

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # what shells report for Ctrl-C


def account_find(reference: str) -> GatewayAccount:
    """The account named ``reference`` (exactly, else ignoring case) or with that id."""
    reference = reference.strip()
    try:
        return GatewayAccount.objects.get(pk=uuid.UUID(reference))
    except (ValueError, GatewayAccount.DoesNotExist):
        pass
    account = GatewayAccount.objects.filter(name=reference).first()
    if account is not None:
        return account
    similar = list(GatewayAccount.objects.filter(name__iexact=reference)[:2])
    if len(similar) == 1:
        return similar[0]
    names = ", ".join(repr(name) for name in GatewayAccount.objects.values_list("name", flat=True))
    raise CommandError(
        f"No gateway account is named or has the id {reference!r}. "
        + (f"Accounts: {names}." if names else "No account is configured yet."),
        returncode=EXIT_USAGE,
    )


class _Progress:
    """One progress bar per object kind, opened when the sync reaches that kind."""

    def __init__(self, *, connector: Connector, run: SyncRun, stream: TextIO) -> None:
        self.connector = connector
        self.stream = stream
        # A terminal of unknown or tiny width (some CI ptys) gets plain lines, not blank bars.
        self.interactive = stream.isatty() and shutil.get_terminal_size((0, 0)).columns >= 40
        self.counts: dict[str, int] = dict(run.counts)
        self.kind: ObjectKind | None = None
        self.bar: tqdm[Any] | None = None

    def _total(self, kind: ObjectKind) -> int | None:
        try:
            return self.connector.estimate_total(kind)
        except BillingdeskError:  # an estimate is a nicety; the sync itself reports errors
            return None

    def open(self, kind: ObjectKind) -> None:
        self.close()
        self.kind = kind
        self.bar = tqdm(
            desc=f"  {kind.value}",
            total=self._total(kind),
            initial=self.counts.get(kind.value, 0),
            unit=" objects",
            file=self.stream,
            disable=not self.interactive,
            leave=True,
            dynamic_ncols=True,
        )

    def page(self, kind: ObjectKind, count: int, _total: int | None) -> None:
        if kind != self.kind:
            self.open(kind)
        self.counts[kind.value] = self.counts.get(kind.value, 0) + count
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            if not self.interactive and self.kind is not None:
                self.stream.write(f"  {self.kind.value}: {self.counts.get(self.kind.value, 0)}\n")
        self.bar = None


class Command(BaseCommand):
    help = "Backfill a gateway account's history into the mirror (resumes an interrupted run)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("account", nargs="?", help="Account name or id.")
        parser.add_argument("--all", action="store_true", help="Every active account.")

    def handle(self, *args: Any, **options: Any) -> None:
        reference: str | None = options["account"]
        if bool(reference) == bool(options["all"]):
            raise CommandError(
                "Give one account name or id, or --all (see `billingdesk sync --help`).",
                returncode=EXIT_USAGE,
            )
        require_migrated()
        if reference:
            accounts = [account_find(reference)]
        else:
            accounts = list(GatewayAccount.objects.filter(is_active=True))
            if not accounts:
                self.stdout.write("No active gateway account to sync.")
                return
        failed: list[str] = []
        for account in accounts:
            try:
                self._sync(account, traceback=options["traceback"])
            except CommandError as exc:
                if len(accounts) == 1 or exc.returncode == EXIT_INTERRUPTED:
                    raise
                self.stderr.write(str(exc))
                failed.append(account.name)
        if failed:
            raise CommandError(f"Sync failed for: {', '.join(failed)}.")

    def _sync(self, account: GatewayAccount, *, traceback: bool) -> None:
        try:
            connector = connector_for(account)
            if not connector.supports(Capability.BACKFILL):
                self.stdout.write(f"{account.name}: {connector.display_name} has no backfill.")
                return
            run = sync_run_start(account=account)
        except UserFacingError as exc:
            raise CommandError(f"{account.name}: {exc.message}") from exc
        kinds = connector.backfill_kinds
        if run.pages or run.kind_index or run.status == SyncRun.Status.FAILED:
            where = kinds[run.kind_index].value if run.kind_index < len(kinds) else "the end"
            self.stdout.write(
                f"Resuming the interrupted sync of {account.name} (started "
                f"{run.started_at:%Y-%m-%d %H:%M} UTC, {sum(run.counts.values())} objects "
                f"already stored), from {where}."
            )
        else:
            self.stdout.write(f"Syncing {account.name} ({connector.display_name})…")
        progress = _Progress(connector=connector, run=run, stream=sys.stderr)

        def skipped(kind: ObjectKind, reason: str) -> None:
            progress.close()
            self.stdout.write(f"  {kind.value}: skipped ({reason}); tried again next sync.")

        try:
            result = sync_run_execute(run=run, on_page=progress.page, on_skip=skipped)
        except KeyboardInterrupt:
            progress.close()
            raise CommandError(
                f"{account.name}: interrupted. Run the same command again to resume.",
                returncode=EXIT_INTERRUPTED,
            ) from None
        except OperationalError as exc:
            progress.close()
            raise CommandError(
                f"{account.name}: could not reach {connector.display_name} ({exc.message}). "
                "The sync is saved up to the last page; run the same command again to resume."
            ) from exc
        except UserFacingError as exc:
            progress.close()
            raise CommandError(
                f"{account.name}: {connector.display_name} refused ({exc.message}). The sync "
                "is saved up to the last page; run the same command again to resume."
            ) from exc
        except Exception as exc:
            progress.close()
            if traceback:
                raise
            raise CommandError(
                f"{account.name}: the sync stopped on an unexpected error ({type(exc).__name__}: "
                f"{exc}). It resumes from the last stored page next time; --traceback shows "
                "details."
            ) from exc
        progress.close()
        per_kind = ", ".join(f"{kind} {count}" for kind, count in run.counts.items())
        self.stdout.write(
            f"{account.name}: done, {sum(run.counts.values())} objects "
            f"({result.created} new, {result.updated} updated, {result.unchanged} unchanged)"
            + (f": {per_kind}." if per_kind else ".")
        )
        skips = sync_run_skipped(run)
        if skips:
            self.stdout.write(
                f"{account.name}: skipped {', '.join(skips)} (see above); the next sync tries "
                "again."
            )
