"""Refund requests waiting for finance, and the latest decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billingdesk.actions.models import ActionRequest


@dataclass(frozen=True, slots=True)
class Approvals:
    pending: list[ActionRequest]  # oldest first: first asked, first decided
    decided: list[ActionRequest]  # the latest decisions


def pending_approvals(
    *, limit: int = 200, decided: int = 20, requested_by: Any = None
) -> Approvals:
    """Requests waiting for approval and the latest decisions (only one agent's, if given)."""
    rows = ActionRequest.objects.select_related("requested_by", "approved_by", "person", "account")
    if requested_by is not None:
        rows = rows.filter(requested_by=requested_by)
    return Approvals(
        pending=list(
            rows.filter(status=ActionRequest.Status.PENDING_APPROVAL).order_by("created_at")[:limit]
        ),
        decided=list(rows.filter(decided_at__isnull=False).order_by("-decided_at")[:decided]),
    )
