"""``billingdesk reports_rebuild``: recompute the revenue rollup from the mirror.

Needed once after installing the reports on an existing mirror, after bulk loads that
bypass the mirror's write path (``bench/generate.py``), or after changing the reporting
time zone (``BILLINGDESK_TIME_ZONE``): every day's row is in that zone. It also gives each
subscription with no price history its first row (at its creation, at its current price).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from billingdesk.reports.prices import prices_seed
from billingdesk.reports.rollups import revenue_rollup_rebuild
from billingdesk.reports.taxdays import tax_days_rebuild


class Command(BaseCommand):
    help = "Recompute the revenue rollup (per day, account, currency, product) from the mirror."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        rows = revenue_rollup_rebuild()
        seconds = time.perf_counter() - began
        self.stdout.write(f"revenue rollup rebuilt: {rows} rows in {seconds:.1f} s")
        began = time.perf_counter()
        taxes = tax_days_rebuild()
        seconds = time.perf_counter() - began
        self.stdout.write(f"tax rollup rebuilt: {taxes} rows in {seconds:.1f} s")
        seeded = prices_seed()
        self.stdout.write(f"subscription price history: {seeded} first rows added")
