"""The audit log is append-only and tamper-evident."""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from billingdesk.actions.audit import audit_check, audit_record, audit_verify
from billingdesk.actions.models import AuditEntry
from tests.migrated import sqlite_migrated


@pytest.mark.django_db
def test_a_clean_chain_verifies() -> None:
    agent = User.objects.create_user("ana", first_name="Ana", last_name="Lopez")
    for n in range(5):
        audit_record(
            actor=agent,
            action="refund",
            result="succeeded",
            amount=100 * n,
            currency="EUR",
            reason_code="duplicate",
        )
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].actor_name == "Ana Lopez (ana)"
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert audit_verify() is None


@pytest.mark.django_db
def test_editing_a_past_entry_is_detected() -> None:
    for _ in range(4):
        audit_record(actor=None, action="refund", result="succeeded", amount=500, currency="EUR")
    AuditEntry.objects.filter(seq=2).update(amount=50)  # a quiet edit straight in the database
    assert audit_verify() == 2


@pytest.mark.django_db
def test_deleting_an_entry_is_detected() -> None:
    for _ in range(4):
        audit_record(actor=None, action="void", result="succeeded")
    AuditEntry.objects.filter(seq=3).delete()
    assert audit_verify() == 3
    AuditEntry.objects.filter(seq=4).delete()
    assert audit_verify() == 3


@pytest.mark.django_db
def test_removing_the_last_entry_is_detected() -> None:
    for _ in range(3):
        audit_record(actor=None, action="void", result="succeeded")
    AuditEntry.objects.filter(seq=3).delete()
    assert audit_verify() == 3


# --- checkpoints outside the database, the command, the periodic check --------------------


def _entries(n: int) -> None:
    for _ in range(n):
        audit_record(actor=None, action="refund", result="succeeded", amount=500, currency="EUR")


def _rehash_from(seq: int) -> None:
    """What someone with database access does to hide an edit: recompute the chain."""
    from billingdesk.actions.audit import _digest
    from billingdesk.actions.models import AuditHead

    previous = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        entry.prev_hash = previous
        entry.hash = _digest(entry)
        entry.save(update_fields=["prev_hash", "hash"])
        previous = entry.hash
    last = AuditEntry.objects.order_by("-seq").first()
    AuditHead.objects.filter(pk=1).update(seq=last.seq if last else 0, hash=previous)


@pytest.mark.django_db
def test_rehashing_after_an_edit_is_caught_by_the_signed_checkpoint(_anchor_file: Path) -> None:
    _entries(5)
    assert audit_check().ok and audit_check().anchored_seq is None  # nothing new: no new line
    assert _anchor_file.read_text().count("\n") == 1
    AuditEntry.objects.filter(seq=2).update(amount=50)
    _rehash_from(2)
    assert audit_verify() is None  # the chain alone looks intact

    check = audit_check()

    assert not check.ok and check.first_bad_seq == 5
    assert "differs from the checkpoint" in check.detail


@pytest.mark.django_db
def test_cutting_the_tail_and_moving_the_head_back_is_caught(_anchor_file: Path) -> None:
    from billingdesk.actions.models import AuditHead

    _entries(5)
    audit_check()
    AuditEntry.objects.filter(seq__gte=4).delete()
    AuditHead.objects.filter(pk=1).update(seq=3, hash=AuditEntry.objects.get(seq=3).hash)
    assert audit_verify() is None  # consistent without the anchor

    check = audit_check()

    assert not check.ok and check.first_bad_seq == 4
    assert "entries were removed" in check.detail


@pytest.mark.django_db
def test_a_forged_checkpoint_is_refused(_anchor_file: Path, settings: Any) -> None:
    _entries(2)
    audit_check()
    settings.AUDIT_ANCHOR_KEY = "not the key"
    check = audit_check()
    assert not check.ok and "not signed with the anchor key" in check.detail


@pytest.mark.django_db
def test_audit_verify_command_exit_codes(_anchor_file: Path) -> None:
    _entries(3)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact: 3 entries; checkpoint of #3" in out.getvalue()
    assert _anchor_file.exists()

    AuditEntry.objects.filter(seq=2).update(reason_text="edited")
    with pytest.raises(CommandError, match=r"BROKEN at entry #2: entry #2 was changed") as err:
        call_command("audit", "verify")
    assert err.value.returncode == 1


def test_audit_verify_from_the_command_line(tmp_path: Path, migrated_cache: Path) -> None:
    """The real `billingdesk audit verify`: exit 0, then exit 1 naming the entry."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env["BILLINGDESK_DATA_DIR"] = str(tmp_path)
    cli = [sys.executable, "-m", "billingdesk"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, check=False)

    sqlite_migrated(tmp_path, migrated_cache)
    script = (
        "from billingdesk.actions.audit import audit_record\n"
        "for _ in range(3): audit_record(actor=None, action='void', result='succeeded')\n"
    )
    assert run("shell", "-c", script).returncode == 0
    ok = run("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "audit-anchors.log").exists()
    tamper = (
        "from billingdesk.actions.models import AuditEntry\n"
        "AuditEntry.objects.filter(seq=3).delete()\n"
    )
    assert run("shell", "-c", tamper).returncode == 0
    broken = run("audit", "verify")
    assert broken.returncode == 1
    assert "entry #3" in broken.stderr
    assert run("audit", "nonsense").returncode == 2


@pytest.mark.django_db
def test_the_periodic_sweep_checks_and_the_admin_shows_an_alert(
    _anchor_file: Path, admin_client: Client, settings: Any
) -> None:
    from billingdesk.actions.models import AuditCheck
    from billingdesk.actions.recovery import actions_sweep

    _entries(2)
    assert "audit ok" in actions_sweep()
    assert "audit" not in actions_sweep()  # not due again yet (AUDIT_CHECK_SECONDS)
    page = admin_client.get("/admin/actions/auditentry/")
    assert page.status_code == 200 and "failed its check" not in page.content.decode()

    AuditEntry.objects.filter(seq=1).update(result="refused")
    settings.AUDIT_CHECK_SECONDS = 0
    assert "AUDIT BROKEN" in actions_sweep()
    assert AuditCheck.objects.latest().first_bad_seq == 1

    alert = admin_client.get("/admin/").content.decode()
    assert "The audit log failed its check" in alert and "entry #1 was changed" in alert
    listed = admin_client.get("/admin/actions/auditentry/?result=refused").content.decode()
    assert "refused" in listed
