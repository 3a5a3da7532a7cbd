"""`billingdesk audit verify`: check the audit log's hash chain and its signed checkpoints.

Exit 0 when the log is intact (a new checkpoint is then appended to the anchor file, unless
``--no-checkpoint``); exit 1 naming the first bad entry and why. Each run is recorded, so the
admin shows an alert while the latest check failed.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billingdesk.actions.audit import audit_check
from billingdesk.core.management import require_migrated


class Command(BaseCommand):
    help = "Verify the audit log (hash chain and signed checkpoints): `billingdesk audit verify`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True, metavar="verify")
        verify = sub.add_parser("verify", help="Check the whole chain; exit 1 if it is broken.")
        verify.add_argument(
            "--no-checkpoint",
            action="store_true",
            help="Do not append a signed checkpoint of a sound log to the anchor file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated()
        check = audit_check(checkpoint=not options["no_checkpoint"])
        if not check.ok:
            where = f"entry #{check.first_bad_seq}" if check.first_bad_seq else "the checkpoints"
            raise CommandError(f"The audit log is BROKEN at {where}: {check.detail}", returncode=1)
        anchored = (
            f"; checkpoint of #{check.anchored_seq} written to {settings.AUDIT_ANCHOR_FILE}"
            if check.anchored_seq
            else ""
        )
        self.stdout.write(f"The audit log is intact: {check.entries} entries{anchored}.")
