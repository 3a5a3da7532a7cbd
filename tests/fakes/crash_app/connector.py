"""The ``slow`` gateway: the sandbox connector with small pages and a pause per page."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import ClassVar

from billingdesk.gateways.interface import ObjectKind, Page
from billingdesk.gateways.sandbox.connector import SandboxConnector


class SlowConnector(SandboxConnector):
    kind = "slow"
    display_name = "Slow sandbox (tests)"
    page_size: ClassVar[int] = 5

    def list_page(self, kind: ObjectKind, cursor: str | None) -> Page:
        marker = os.environ.get("BD_BACKFILL_MARKER")
        if marker and not Path(marker).exists():
            Path(marker).write_text(json.dumps({"pid": os.getpid(), "ppid": os.getppid()}))
        time.sleep(float(os.environ.get("BD_SLOW_PAGE_SECONDS", "0.3")))
        return super().list_page(kind, cursor)
