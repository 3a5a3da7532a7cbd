"""``billingdesk documents_load_rates FILE``: load ECB euro reference rates (CSV) as dated data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.exchange import SAMPLE_FILE, rates_load


class Command(BaseCommand):
    help = (
        "Load ECB euro foreign exchange reference rates from a CSV file (eurofxref.csv or "
        "eurofxref-hist.csv, as downloaded from the ECB), used to state VAT in the seller's "
        "national currency (Art. 230 VAT directive). Re-loading a day replaces its rates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="the CSV file; '-' for standard input")
        parser.add_argument("--sample", action="store_true", help=f"load {SAMPLE_FILE.name}")
        parser.add_argument("--source", default="ECB", help="source recorded with each rate")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample"]:
            path = SAMPLE_FILE
        elif options["file"]:
            path = Path(options["file"])
        else:
            raise CommandError("give the rates file (or --sample)", returncode=2)
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from exc
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not a UTF-8 text file", returncode=2) from None
        try:
            count = rates_load(text, source=options["source"])
        except InvalidRequest as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=2) from exc
        self.stdout.write(f"{count} rates loaded from {path}")
