"""Documents that could not be issued: recorded with the reason, closed, retried."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.models import IssueProblem


def issue_problem_record(
    *,
    source_key: str,
    reason: str,
    charge_id: int | None = None,
    refund_id: int | None = None,
    customer_id: int | None = None,
) -> IssueProblem:
    """Remember that a document could not be issued and why (one row per source, counting
    attempts), in its own transaction: the failed issue itself was rolled back."""
    with transaction.atomic():
        problem, created = IssueProblem.objects.select_for_update().get_or_create(
            source_key=source_key,
            defaults={
                "reason": reason,
                "charge_id": charge_id,
                "refund_id": refund_id,
                "customer_id": customer_id,
            },
        )
        if not created:
            problem.reason = reason
            problem.attempts += 1
            problem.resolved_at = None
            problem.save(update_fields=["reason", "attempts", "resolved_at", "last_seen"])
    return problem


def issue_problem_resolve(*, source_key: str) -> None:
    """The document was issued after all (or is not due): the problem is closed."""
    IssueProblem.objects.filter(source_key=source_key, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def issue_problem_retry(*, problem_id: int) -> None:
    """Queue the issue again (after finance fixed the configuration)."""
    from billingdesk.documents.tasks import (
        credit_note_for_refund_task,
        document_for_charge_task,
        reissue_for_tax_id_task,
    )

    problem = IssueProblem.objects.get(pk=problem_id)
    kind, _, ident = problem.source_key.partition(":")
    if kind == "charge":
        enqueue_on_commit(document_for_charge_task, int(ident))
    elif kind == "refund":
        enqueue_on_commit(credit_note_for_refund_task, int(ident))
    elif kind == "tax-id":
        enqueue_on_commit(reissue_for_tax_id_task, int(ident))
