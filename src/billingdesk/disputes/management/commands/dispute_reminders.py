"""`billingdesk dispute_reminders`: email the people answering disputes due soon."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from billingdesk.core.management import require_migrated
from billingdesk.disputes.reminders import dispute_reminders_send


class Command(BaseCommand):
    help = "Remind the assigned agent and finance of dispute deadlines (never submits)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--base-url",
            default="",
            help="The console's address, for the links in the emails (https://billing.acme.com).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        require_migrated()
        run = dispute_reminders_send(base_url=options["base_url"])
        self.stdout.write(f"{run.sent} reminder(s) sent, {run.failed} failed")
