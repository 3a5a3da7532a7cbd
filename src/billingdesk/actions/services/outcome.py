"""What to tell the agent about a submitted request."""

from __future__ import annotations

from collections.abc import Callable

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.core.money import Money

Status = ActionRequest.Status


def request_outcome(
    request: ActionRequest, *, money: Callable[[int, str], str] | None = None
) -> tuple[str, str]:
    """What to tell the agent about a submitted request: (level, message).

    level is "success", "info", "warning" or "error"; a request another submission of the
    same form is running is reported as in progress, never as an error. ``money`` formats
    an amount (default: ``Money``'s "12.50 EUR").
    """
    what = ActionKind(request.kind).label
    show = money or (lambda amount, currency: str(Money(amount, currency)))
    amount = (
        f" ({show(request.amount, request.currency)})"
        if request.amount is not None and request.currency
        else ""
    )
    if request.status == Status.SUCCEEDED:
        return "success", f"Done: {what}{amount}."
    if request.status == Status.RUNNING:
        return "info", (
            f"This {what}{amount} is being processed (request #{request.pk}); "
            "do not submit it again. Reload in a moment to see the result."
        )
    if request.status == Status.PENDING_APPROVAL:
        return "warning", (
            f"{what.capitalize()}{amount} is above your limit: sent to finance for approval "
            f"(request #{request.pk}). It shows as awaiting approval until decided."
        )
    if request.status == Status.UNKNOWN:
        return "warning", (
            f"The outcome of this {what}{amount} is unknown (request #{request.pk}): check "
            "the gateway before trying again."
        )
    if request.status == Status.DENIED:
        why = f": {request.decision_reason}" if request.decision_reason else ""
        return "error", f"This {what}{amount} was denied{why}."
    return "error", f"This {what}{amount} failed: {request.error or 'no reason was recorded'}."
