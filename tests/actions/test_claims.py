"""Claim, call, record: the gateway is never called inside a transaction, and every outcome
is recorded (and audited) even when the process or the database fails in between."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from billingdesk.accounts.models import Role
from billingdesk.actions import recovery, services
from billingdesk.actions.audit import audit_verify
from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.actions.recovery import actions_reconcile
from billingdesk.actions.services import action_key_issue, calls, request_outcome
from billingdesk.billing.models import Refund
from billingdesk.core.errors import GatewayUnavailable, OperationalError
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.panel.tests.factories import Shop

from .test_actions import agent, gateway_refunds, refund

SCRIPT = Path(__file__).with_name("inflight_sqlite.py")


def test_webhook_intake_on_an_sqlite_file_succeeds_while_a_refund_is_at_the_gateway(
    tmp_path: Path,
) -> None:
    """A real SQLite file, a refund thread held inside the gateway call, an intake thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env["BILLINGDESK_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(services.__file__).parents[3]), *sys.path])
    # SQLite's own busy timeout (2 s) decides how long a blocked intake waits: no wall-clock
    # limit in the test itself.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "2"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["running_while_in_call"] == 1  # the claim committed before the call
    assert outcome["intake_status"] == 200, outcome
    assert outcome["stored"] == 1
    assert outcome["refund"] == "succeeded" and outcome["amount_refunded"] == 1000


def test_the_gateway_is_called_outside_any_transaction(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = agent("ana", Role.AGENT)
    seen: list[bool] = []
    original = SandboxConnector.refund_create

    def watching(self: SandboxConnector, **kwargs: Any) -> Any:
        # The test itself runs in one outer transaction (pytest-django): the action must
        # not add one of its own around the call.
        seen.append(transaction.get_connection().savepoint_ids == [])
        seen.append(ActionRequest.objects.get().status == ActionRequest.Status.RUNNING)
        return original(self, **kwargs)

    monkeypatch.setattr(SandboxConnector, "refund_create", watching)
    assert refund(ana, shop.charge, 1000).status == ActionRequest.Status.SUCCEEDED
    assert seen == [True, True]


def test_a_retryable_failure_is_retried_with_the_same_key_and_refunds_once(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = agent("ana", Role.AGENT)
    key = action_key_issue(user=ana)
    original = SandboxConnector.refund_create
    calls: list[str] = []

    def flaky(self: SandboxConnector, **kwargs: Any) -> Any:
        calls.append(kwargs["idempotency_key"])
        if len(calls) == 1:
            # The gateway acted, but the answer was lost on the way back (a timeout).
            original(self, **kwargs)
            raise GatewayUnavailable("timed out")
        return original(self, **kwargs)

    monkeypatch.setattr(SandboxConnector, "refund_create", flaky)
    with pytest.raises(OperationalError):
        refund(ana, shop.charge, 1000, key=key)
    failed = ActionRequest.objects.get()
    assert failed.status == ActionRequest.Status.FAILED and failed.retryable
    assert AuditEntry.objects.get(request=failed).result == "failed"

    retried = refund(ana, shop.charge, 1000, key=key)  # the agent presses the button again

    assert retried.pk == failed.pk and retried.status == ActionRequest.Status.SUCCEEDED
    assert calls[0] == calls[1]  # the same gateway key: the gateway replays, never acts twice
    assert gateway_refunds(shop) == 1
    shop.charge.refresh_from_db()
    assert shop.charge.amount_refunded == 1000
    assert list(
        AuditEntry.objects.filter(request=failed).order_by("seq").values_list("result", flat=True)
    ) == ["failed", "succeeded"]
    # A non-retryable outcome is final: the same form again does nothing more.
    assert refund(ana, shop.charge, 1000, key=key).status == ActionRequest.Status.SUCCEEDED
    assert len(calls) == 2


def test_a_commit_failure_after_the_refund_still_records_the_outcome_and_audit(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = agent("ana", Role.AGENT)

    def broken_upsert(**kwargs: Any) -> None:
        raise DatabaseError("could not serialize access")

    monkeypatch.setattr(calls, "mirror_upsert", broken_upsert)
    done = refund(ana, shop.charge, 1000)

    assert done.status == ActionRequest.Status.SUCCEEDED
    assert gateway_refunds(shop) == 1
    entry = AuditEntry.objects.get(request=done)
    assert entry.result == "succeeded" and "mirror not updated" in entry.detail
    assert audit_verify() is None


def test_a_claim_left_running_is_reconciled_with_the_same_key(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway refunded, then every attempt to record failed (or the process died)."""
    ana = agent("ana", Role.AGENT)
    real_audit = services._audit

    def audit_down(request: ActionRequest, **kwargs: Any) -> None:
        if kwargs.get("result") == "succeeded":
            raise DatabaseError("disk full")
        real_audit(request, **kwargs)

    monkeypatch.setattr(calls, "_audit", audit_down)
    with pytest.raises(OperationalError, match="Do not submit it again"):
        refund(ana, shop.charge, 1000)
    claim = ActionRequest.objects.get()
    assert claim.status == ActionRequest.Status.RUNNING
    assert gateway_refunds(shop) == 1 and not AuditEntry.objects.filter(request=claim).exists()
    # A second refund must count the one in flight against what remains (50 - 10 in flight).
    with pytest.raises(Exception, match=r"Only €40\.00 remains"):
        refund(ana, shop.charge, 4001)

    monkeypatch.setattr(calls, "_audit", real_audit)
    monkeypatch.setattr(recovery, "_audit", real_audit)
    assert actions_reconcile() == 0  # not stale yet: it may still be recording
    ActionRequest.objects.filter(pk=claim.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    assert actions_reconcile() == 1

    claim.refresh_from_db()
    assert claim.status == ActionRequest.Status.SUCCEEDED
    assert gateway_refunds(shop) == 1  # asked again with the same key: replayed, not redone
    assert Refund.objects.filter(charge=shop.charge).count() == 1
    entry = AuditEntry.objects.get(request=claim)
    assert entry.result == "succeeded" and "recovered" in entry.detail


def test_a_claim_too_old_to_ask_again_is_marked_unknown(shop: Shop, admin_client: Client) -> None:
    ana = agent("ana", Role.AGENT)
    claim = ActionRequest.objects.create(
        idempotency_key="n1", kind=ActionKind.REFUND, status=ActionRequest.Status.RUNNING,
        account=shop.account, target_kind="charge", target_id=shop.charge.gateway_id,
        params={"amount": 100}, amount=100, currency="EUR", requested_by=ana,
        claimed_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    ActionRequest.objects.filter(pk=claim.pk).update(updated_at=timezone.now() - timedelta(days=2))

    actions_reconcile()

    claim.refresh_from_db()
    assert claim.status == ActionRequest.Status.UNKNOWN and "check the gateway" in claim.error
    assert gateway_refunds(shop) == 0
    assert AuditEntry.objects.get(request=claim).result == "unknown"
    level, text = request_outcome(claim)
    assert level == "warning" and "check the gateway" in text
    page = admin_client.get("/admin/").content.decode()
    assert "1 action(s) have an unknown outcome" in page


def test_the_loser_of_two_same_key_submissions_is_told_it_is_being_processed(
    shop: Shop,
) -> None:
    ana = agent("ana", Role.AGENT)
    running = ActionRequest.objects.create(
        idempotency_key="n2", kind=ActionKind.REFUND, status=ActionRequest.Status.RUNNING,
        account=shop.account, target_kind="charge", target_id=shop.charge.gateway_id,
        params={"amount": 100}, amount=100, currency="EUR", requested_by=ana,
        claimed_at=timezone.now(),
    )  # fmt: skip
    level, text = request_outcome(running)
    assert level == "info"
    assert "is being processed" in text and "do not submit it again" in text


def test_the_sweep_is_queued_once_and_requeues_itself(db: None, settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    from billingdesk.actions.recovery import actions_sweep_schedule, actions_sweep_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    assert actions_sweep_schedule() is True
    assert actions_sweep_schedule() is False  # one chain per installation, however many workers
    jobs = DBTaskResult.objects.filter(task_path=actions_sweep_task.module_path)
    assert jobs.count() == 1
