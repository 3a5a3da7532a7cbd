"""The reasons an agent chooses from, per kind of action (issue 20 #11).

A cancellation offers cancellation reasons ("Too expensive", "Switched to another
service"…), a refund refund reasons ("Duplicate payment"…). Admins edit the lists in the
admin (``ActionReason``: add, reorder, rename, deactivate, require a written explanation);
``DEFAULT_REASONS`` is what a new installation starts with (seeded by a migration) and what a
kind with no active reason falls back to, so an action always has a list.
"""

from __future__ import annotations

from dataclasses import dataclass

from billingdesk.actions.models import ActionKind, ActionReason
from billingdesk.core.labels import label

_COMMON = ("requested_by_customer", "billing_error", "other")

DEFAULT_REASONS: dict[str, tuple[str, ...]] = {
    ActionKind.REFUND: (
        "requested_by_customer",
        "duplicate",
        "fraudulent",
        "service_issue",
        "billing_error",
        "goodwill",
        "other",
    ),
    ActionKind.CANCEL_SUBSCRIPTION: (
        "requested_by_customer",
        "too_expensive",
        "missing_features",
        "switched_service",
        "unused",
        "customer_service",
        "low_quality",
        "too_complex",
        "billing_error",
        "other",
    ),
    ActionKind.VOID: ("requested_by_customer", "duplicate", "fraudulent", "billing_error", "other"),
    ActionKind.CAPTURE: ("order_fulfilled", "requested_by_customer", "other"),
    ActionKind.AUTHORIZE: _COMMON,
    ActionKind.PAYMENT_REQUEST: _COMMON,
    ActionKind.CREATE_SUBSCRIPTION: _COMMON,
    ActionKind.SEND_INVOICE: _COMMON,
    ActionKind.ADD_TAX_ID: _COMMON,
    ActionKind.APPLY_COUPON: ("goodwill", "service_issue", "requested_by_customer", "other"),
    ActionKind.DISPUTE_SUBMIT: ("evidence_complete", "other"),
    ActionKind.DISPUTE_ACCEPT: ("refund_due", "evidence_missing", "fraud_confirmed", "other"),
    ActionKind.PAUSE_SUBSCRIPTION: ("requested_by_customer", "unused", "too_expensive", "other"),
    ActionKind.RESUME_SUBSCRIPTION: _COMMON,
    ActionKind.VOID_INVOICE: ("billing_error", "duplicate", "requested_by_customer", "other"),
    ActionKind.REACTIVATE_SUBSCRIPTION: _COMMON,
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    label: str
    text_required: bool = False


def reasons_for(kind: str) -> list[Reason]:
    """The reasons offered for ``kind``, in the admins' order ("other" needs words)."""
    rows = list(ActionReason.objects.filter(kind=kind, active=True).order_by("position", "code"))
    if rows:
        return [
            Reason(row.code, row.label or label(row.code), row.text_required or row.code == "other")
            for row in rows
        ]
    return [
        Reason(code, label(code), code == "other") for code in DEFAULT_REASONS.get(kind, _COMMON)
    ]


def reason_choices(kind: str) -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a form's select."""
    return [(reason.code, reason.label) for reason in reasons_for(kind)]
