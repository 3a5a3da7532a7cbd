"""`billingdesk webhooks prune`: delete old webhook events past their retention.

Workers already do this once an hour (``WEBHOOK_RETENTION_DAYS``); the command is for a cron
job, a one-off clean-up with another age, or an installation that runs no worker for a while.
"""

from __future__ import annotations

import math
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from billingdesk.core.management import require_migrated
from billingdesk.gateways.recovery import webhook_events_prune


def _days(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a number of days") from None
    if not math.isfinite(number) or number <= 0:
        raise ArgumentTypeError("the age must be a positive number of days")
    return number


class Command(BaseCommand):
    help = "Webhook housekeeping: `prune` deletes rejected, duplicate and processed events."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="prune")
        prune = commands.add_parser(
            "prune", help="Delete rejected, duplicate and processed events older than the age."
        )
        prune.add_argument(
            "--older-than",
            type=_days,
            default=None,
            metavar="DAYS",
            help="Age in days (default: BILLINGDESK_WEBHOOK_RETENTION_DAYS, "
            f"now {settings.WEBHOOK_RETENTION_DAYS:g}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated()
        days = options["older_than"]
        if days is None and settings.WEBHOOK_RETENTION_DAYS <= 0:
            self.stdout.write("Retention is off (BILLINGDESK_WEBHOOK_RETENTION_DAYS=0): kept all.")
            return
        deleted = webhook_events_prune(days=days)
        self.stdout.write(f"Deleted {deleted} webhook event(s).")
