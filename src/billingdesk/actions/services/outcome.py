"""What to tell the agent about a submitted request."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

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
    what = _(ActionKind(request.kind).label)
    show = money or (lambda amount, currency: str(Money(amount, currency)))
    amount = (
        f" ({show(request.amount, request.currency)})"
        if request.amount is not None and request.currency
        else ""
    )
    values = {"what": what, "amount": amount, "request": request.pk}
    if request.status == Status.SUCCEEDED:
        return "success", _("Done: %(what)s%(amount)s.") % values
    if request.status == Status.RUNNING:
        return "info", _(
            "This %(what)s%(amount)s is being processed (request #%(request)s); do not submit "
            "it again. Reload in a moment to see the result."
        ) % values
    if request.status == Status.PENDING_APPROVAL:
        return "warning", _(
            "%(What)s%(amount)s is above your limit: sent to finance for approval (request "
            "#%(request)s). It shows as awaiting approval until decided."
        ) % {**values, "What": what[:1].upper() + what[1:]}
    if request.status == Status.UNKNOWN:
        return "warning", _(
            "The outcome of this %(what)s%(amount)s is unknown (request #%(request)s): check "
            "the gateway before trying again."
        ) % values
    if request.status == Status.DENIED:
        if request.decision_reason:
            return "error", _("This %(what)s%(amount)s was denied: %(why)s.") % {
                **values,
                "why": request.decision_reason,
            }
        return "error", _("This %(what)s%(amount)s was denied.") % values
    return "error", _("This %(what)s%(amount)s failed: %(why)s.") % {
        **values,
        "why": request.error or _("no reason was recorded"),
    }
