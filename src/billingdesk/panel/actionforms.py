"""What the action forms ask for, and turning what the agent typed into service parameters.

The forms post text as typed (``12.50``); amounts become integer minor units here, with the
target's currency, before anything reaches ``billingdesk.actions.services``. Checking the
values against the target's state (how much remains refundable, which coupon exists) is the
service's job; this module only refuses what cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from billingdesk.actions.models import ActionKind
from billingdesk.billing.models import Charge, Customer, Invoice, Mirrored, Subscription
from billingdesk.core.errors import InvalidRequest
from billingdesk.core.money import amount_text, normalise_currency, parse_amount

# The rows an action form may address, by the name used in URLs.
TARGET_MODELS: dict[str, type[Mirrored]] = {
    "charge": Charge,
    "subscription": Subscription,
    "invoice": Invoice,
    "customer": Customer,
}

# Short button labels, for a 350 px panel.
BUTTON_LABELS: dict[str, str | Promise] = {
    ActionKind.REFUND: gettext_lazy("Refund"),
    ActionKind.CAPTURE: gettext_lazy("Capture"),
    ActionKind.VOID: gettext_lazy("Void"),
    ActionKind.AUTHORIZE: gettext_lazy("Authorise"),
    ActionKind.CANCEL_SUBSCRIPTION: gettext_lazy("Cancel"),
    ActionKind.CREATE_SUBSCRIPTION: gettext_lazy("New subscription"),
    ActionKind.SEND_INVOICE: gettext_lazy("Send"),
    ActionKind.APPLY_COUPON: gettext_lazy("Coupon"),
    ActionKind.ADD_TAX_ID: gettext_lazy("Tax ID"),
    ActionKind.PAYMENT_REQUEST: gettext_lazy("Payment request"),
    ActionKind.PAUSE_SUBSCRIPTION: gettext_lazy("Pause"),
    ActionKind.RESUME_SUBSCRIPTION: gettext_lazy("Resume"),
    ActionKind.VOID_INVOICE: gettext_lazy("Void invoice"),
    ActionKind.REACTIVATE_SUBSCRIPTION: gettext_lazy("Reactivate"),
}

# The form fields each action posts (all optional at this level; the service decides).
PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    ActionKind.REFUND: ("amount",),
    ActionKind.CAPTURE: ("amount",),
    ActionKind.VOID: (),
    ActionKind.AUTHORIZE: ("amount", "currency", "description"),
    ActionKind.CANCEL_SUBSCRIPTION: ("when",),
    ActionKind.CREATE_SUBSCRIPTION: ("plan", "quantity", "trial_days", "coupon_id"),
    ActionKind.SEND_INVOICE: (),
    ActionKind.APPLY_COUPON: ("coupon_id",),
    ActionKind.ADD_TAX_ID: ("tax_type", "value"),
    ActionKind.PAYMENT_REQUEST: ("amount", "currency", "description"),
    ActionKind.PAUSE_SUBSCRIPTION: (),
    ActionKind.RESUME_SUBSCRIPTION: (),
    ActionKind.VOID_INVOICE: (),
    ActionKind.REACTIVATE_SUBSCRIPTION: (),
}


# Actions whose fields all have defaults: the button opens the confirm step at once.
PREVIEW_AT_ONCE = frozenset(
    {
        ActionKind.REFUND,
        ActionKind.CAPTURE,
        ActionKind.VOID,
        ActionKind.CANCEL_SUBSCRIPTION,
        ActionKind.SEND_INVOICE,
        ActionKind.PAUSE_SUBSCRIPTION,
        ActionKind.RESUME_SUBSCRIPTION,
        ActionKind.VOID_INVOICE,
        ActionKind.REACTIVATE_SUBSCRIPTION,
    }
)
# The fields the confirm step keeps editable (a change there shows the new effect first).
EDITABLE_IN_REVIEW: dict[str, tuple[str, ...]] = {
    ActionKind.REFUND: ("amount",),
    ActionKind.CAPTURE: ("amount",),
    ActionKind.CANCEL_SUBSCRIPTION: ("when",),
}
# The cancel form's "when" choices that end a subscription now with a refund (Recurly).
TERMINATE_WITH_REFUND = {"now_refund_partial": "partial", "now_refund_full": "full"}
# The reason preselected when the button suggests none: the agent acts on a customer's ticket.
DEFAULT_REASON = "requested_by_customer"


@dataclass(frozen=True, slots=True)
class TypedParams:
    """What the agent typed (re-posted unchanged through the confirm step) and what the
    service receives."""

    typed: dict[str, str]
    params: dict[str, Any]


def action_kind(value: str) -> ActionKind:
    try:
        kind = ActionKind(value)
    except ValueError:
        raise InvalidRequest(f"There is no action {value!r}.") from None
    if kind not in PARAM_FIELDS:  # answered on its own page (a dispute's review)
        raise InvalidRequest(f"{kind.label.capitalize()} has no form here.")
    return kind


def minor_to_text(amount: int, currency: str) -> str:
    """Minor units as a plain decimal a form field can hold ("12.50"; "12,50" in French), no
    grouping: what ``parse_amount`` reads back in the same language."""
    return amount_text(amount, currency)


def params_read(kind: ActionKind, target: Mirrored, data: Mapping[str, str]) -> TypedParams:
    """Read the posted fields of ``kind``; raise ``InvalidRequest`` for unreadable values."""
    typed = {name: str(data.get(name, "")).strip()[:2000] for name in PARAM_FIELDS[kind]}
    params: dict[str, Any] = {}
    if "currency" in typed:
        try:
            params["currency"] = normalise_currency(
                typed["currency"] or target.account.default_currency
            )
        except ValueError:
            raise InvalidRequest(
                f"{typed['currency'][:10]!r} is not an ISO 4217 currency."
            ) from None
    currency = str(params.get("currency") or getattr(target, "currency", "") or "")
    if "amount" in typed:
        if typed["amount"]:
            if len(currency) != 3:
                raise InvalidRequest("Choose a currency for the amount.")
            try:
                params["amount"] = parse_amount(typed["amount"], currency)
            except ValueError as exc:
                raise InvalidRequest(f"Amount: {exc}.") from None
        elif kind in (ActionKind.PAYMENT_REQUEST, ActionKind.AUTHORIZE):
            raise InvalidRequest("Enter an amount.")
        # An empty refund or capture amount means all of it: the service fills it in.
    if "when" in typed:
        if typed["when"] not in ("period_end", "now", *TERMINATE_WITH_REFUND):
            raise InvalidRequest("Choose when the subscription ends.")
        params["at_period_end"] = typed["when"] == "period_end"
        if typed["when"] in TERMINATE_WITH_REFUND:
            params["refund"] = TERMINATE_WITH_REFUND[typed["when"]]
    for name in ("description", "plan", "coupon_id", "tax_type", "value"):
        if name in typed:
            params[name] = typed[name]
    for name in ("quantity", "trial_days"):
        if typed.get(name):
            value = typed[name]
            # ASCII digits only (str.isdigit() also takes "²", which int() refuses), bounded.
            if not (value.isascii() and value.isdigit()) or len(value) > 6:
                raise InvalidRequest(f"{name.replace('_', ' ').capitalize()} must be a number.")
            params[name] = int(value)
    return TypedParams(typed=typed, params=params)
