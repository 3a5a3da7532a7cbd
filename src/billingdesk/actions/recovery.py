"""Recovery of actions left between claim and record, and the periodic audit check.

A request is ``running`` from its claim until its outcome is recorded. A process that died in
between (or a failed commit after the gateway acted) leaves it running; once its claim is
older than ``ACTION_CLAIM_TIMEOUT_SECONDS`` it is reconciled here: the gateway is asked again
with the same idempotency key, which replays the first answer (or acts now if the first call
never reached it), and the outcome is recorded and audited as usual. A claim older than
``ACTION_RECONCILE_MAX_SECONDS`` is not asked again — the gateway may have forgotten the key,
and a second call could act twice — but marked ``unknown: check the gateway`` and audited,
so that a person looks (the admin lists such requests).

``actions_sweep`` does both jobs and is cheap when there is nothing to do; the workers run it
every ``ACTIONS_SWEEP_SECONDS`` (``actions_sweep_task``, which re-queues itself).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend

from billingdesk.actions.audit import audit_check
from billingdesk.actions.models import ActionRequest, AuditCheck
from billingdesk.actions.services import (
    _audit,
    gateway_call,
    record_failure,
    record_success,
)
from billingdesk.core.errors import OperationalError, UserFacingError

logger = logging.getLogger(__name__)
Status = ActionRequest.Status


def request_reconcile(request: ActionRequest, *, force: bool = False) -> ActionRequest:
    """Resolve one stale running request (see the module docstring); returns it as it is now."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.ACTION_CLAIM_TIMEOUT_SECONDS)
    with transaction.atomic():
        request = ActionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.RUNNING or (request.updated_at >= cutoff and not force):
            return request  # recorded meanwhile, or another sweeper has it
        claimed = request.claimed_at or request.updated_at
        if now - claimed > timedelta(seconds=settings.ACTION_RECONCILE_MAX_SECONDS):
            request.status = Status.UNKNOWN
            request.error = (
                "No outcome was recorded and it is too late to ask the gateway again safely: "
                "check the gateway's dashboard."
            )
            request.save()
            _audit(request, actor=request.requested_by, approver=request.approved_by,
                   result="unknown", ip=None)  # fmt: skip
            logger.error("action request %s: outcome unknown, check the gateway", request.pk)
            return request
        request.save(update_fields=["updated_at"])  # a lease: other sweepers leave it alone
    try:
        result = gateway_call(request)
    except UserFacingError as exc:
        record_failure(request, exc, actor=request.requested_by, approver=request.approved_by,
                       ip=None)  # fmt: skip
    except OperationalError:
        logger.warning("action request %s: gateway unavailable, will ask again", request.pk)
    except Exception:
        logger.exception("action request %s: reconciling failed, will try again", request.pk)
    else:
        with contextlib.suppress(OperationalError):  # left running: the next sweep retries
            record_success(request, result, actor=request.requested_by,
                           approver=request.approved_by, ip=None,
                           detail="recovered: outcome recorded by the sweep")  # fmt: skip
    return ActionRequest.objects.get(pk=request.pk)


def actions_reconcile(*, limit: int = 100) -> int:
    """Reconcile the running requests whose claim is stale; returns how many were looked at."""
    cutoff = timezone.now() - timedelta(seconds=settings.ACTION_CLAIM_TIMEOUT_SECONDS)
    stale = list(
        ActionRequest.objects.filter(status=Status.RUNNING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .only("pk")[:limit]
    )
    for request in stale:
        request_reconcile(request)
    return len(stale)


def audit_check_due() -> bool:
    latest = AuditCheck.objects.order_by("-at", "-pk").only("at").first()
    return latest is None or timezone.now() - latest.at >= timedelta(
        seconds=settings.AUDIT_CHECK_SECONDS
    )


def actions_sweep() -> str:
    """Reconcile stale claims, and verify (and checkpoint) the audit log when it is due."""
    reconciled = actions_reconcile()
    checked = ""
    if audit_check_due():
        result = audit_check()
        checked = "; audit ok" if result.ok else f"; AUDIT BROKEN: {result.detail}"
    return f"{reconciled} stale action(s) reconciled{checked}"


@task()
def actions_sweep_task() -> str:
    """The periodic sweep; queues its next run, so one chain runs per installation."""
    try:
        return actions_sweep()
    finally:
        actions_sweep_schedule(delay=settings.ACTIONS_SWEEP_SECONDS)


def actions_sweep_schedule(*, delay: float = 0) -> bool:
    """Queue the sweep unless one is already waiting (database queue); True if queued."""
    backend = actions_sweep_task.get_backend()
    if isinstance(backend, DatabaseBackend):
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(
            task_path=actions_sweep_task.module_path, status=TaskResultStatus.READY
        ).exists():
            return False
    job = actions_sweep_task
    if delay:
        job = job.using(run_after=timezone.now() + timedelta(seconds=delay))
    job.enqueue()
    return True
