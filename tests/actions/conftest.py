from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billingdesk.panel.tests.factories import Shop, build_shop


@pytest.fixture
def shop(db: None) -> Shop:
    return build_shop()


@pytest.fixture(autouse=True)
def _anchor_file(settings: Any, tmp_path: Path) -> Path:
    """Audit checkpoints go to a file of the test's own."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchors.log")
    return tmp_path / "audit-anchors.log"
