"""Gapless numbering on a real SQLite file under concurrent issuers (separate processes).

The suite's SQLite test database is in memory and shared between threads, which is not how
an installation runs; here a throw-away installation (its own data directory, an SQLite file
with the test database's migrated schema, the settings' ``BEGIN IMMEDIATE`` transactions) is
driven by four worker processes issuing invoices at the same time.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[4]

SETUP = """
import json, django
django.setup()
from billingdesk.documents.tests.conftest import shop_create
shop = shop_create("DE")
print(json.dumps([shop.pay(amount=1190 + i, country="DE").pk for i in range(24)]))
"""

# Each worker gets ready (Django, fonts), says so, and starts issuing only when all are ready,
# so the four really compete for the database.
ISSUE = """
import json, pathlib, sys, time, django
django.setup()
from billingdesk.documents.render.layout import fonts
from billingdesk.documents.services import document_issue_for_charge
fonts()
ids, ready, go = json.loads(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.01)
for charge_id in ids:
    document_issue_for_charge(charge_id=charge_id)
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "BILLINGDESK_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "billingdesk.config.settings",
        "BILLINGDESK_LOG_LEVEL": "WARNING",
    }
    return env


# transaction=True: no transaction is left open on the source, which the backup would wait on.
@pytest.mark.django_db(transaction=True)
def test_concurrent_processes_on_sqlite_get_gapless_numbers(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL run has its own concurrency test (test_numbering.py)")
    # Copy the migrated test database to a file (faster than migrating a new one).
    connection.ensure_connection()
    target = sqlite3.connect(tmp_path / "billingdesk.sqlite3")
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    env = _env(tmp_path)
    run = dict(cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    ids = json.loads(subprocess.run([sys.executable, "-c", SETUP], **run).stdout.strip())
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(4)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ISSUE, json.dumps(ids[i::4]), str(ready[i]), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):
        assert all(w.poll() is None for w in workers), "a worker died before starting"
        assert time.monotonic() < deadline, "workers did not get ready"
        time.sleep(0.05)
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    with sqlite3.connect(tmp_path / "billingdesk.sqlite3") as db:
        numbers = sorted(row[0] for row in db.execute("SELECT number FROM documents_document"))
    assert numbers == [f"RE2026-{n:06d}" for n in range(1, 25)]
