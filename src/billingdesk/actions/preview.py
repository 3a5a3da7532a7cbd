"""What the confirm step shows before an action runs."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from billingdesk.actions.models import ActionKind
from billingdesk.actions.rules import (
    TAX_ID_TYPES,
    User,
    action_check,
    coupon_get,
    money_of,
    params_clean,
)
from billingdesk.billing.models import Charge, Invoice, Mirrored, Subscription
from billingdesk.core.errors import (
    UserFacingError,
)
from billingdesk.core.money import Money, day_format
from billingdesk.gateways.registry import connector_class


@dataclass(frozen=True)
class ActionPreview:
    """What the confirm step shows before an action runs."""

    kind: ActionKind
    allowed: bool
    refusal: str = ""
    lines: list[str] = field(default_factory=list)
    amount: Money | None = None
    needs_approval: bool = False
    params: dict[str, Any] = field(default_factory=dict)


def action_preview(
    *, user: User, kind: ActionKind, target: Mirrored, params: dict[str, Any]
) -> ActionPreview:
    """What running this action would do, in plain lines, or why it cannot run."""
    kind = ActionKind(kind)
    try:
        action_check(user, kind, target)
        clean = params_clean(kind, target, params)
    except UserFacingError as exc:
        return ActionPreview(kind=kind, allowed=False, refusal=exc.message)
    amount, currency = money_of(kind, target, clean)
    money = Money(amount, currency) if amount is not None and currency else None
    lines = _effect_lines(kind, target, clean)
    lines += _gateway_notes(kind, target, clean)
    if kind is ActionKind.REFUND and isinstance(target, Charge):
        lines += _gateway_refund_lines(target)
    from billingdesk.actions.limits import awaiting_approval, limit_refusal

    target_kind = type(target).__name__.lower()
    waiting = awaiting_approval(
        kind=kind, account_id=target.account_id, target_kind=target_kind,  # type: ignore[attr-defined]
        target_id=target.gateway_id,
    )  # fmt: skip
    if waiting is not None:
        return ActionPreview(
            kind=kind,
            allowed=False,
            refusal=f"A {kind.label} on this record is already awaiting approval "
            f"(request #{waiting.pk}); wait for finance's decision.",
        )
    approval = limit_refusal(
        user=user, kind=kind, amount=amount, currency=currency,
        account_id=target.account_id, target_kind=target_kind,  # type: ignore[attr-defined]
        target_id=target.gateway_id,
    )  # fmt: skip
    if approval:
        lines.append(f"{approval} It will be sent to finance for approval.")
    return ActionPreview(
        kind=kind, allowed=True, lines=lines, amount=money, needs_approval=bool(approval),
        params=clean,
    )  # fmt: skip


def _approval_note(target: Mirrored) -> list[str]:
    """What the gateway needs before a new subscription starts (PayPal: the customer's
    approval through a link), as the connector declares it."""
    from billingdesk.gateways.registry import connector_class

    try:
        note = connector_class(target.account.kind).subscription_approval_note  # type: ignore[attr-defined]
    except UserFacingError:
        return []
    return [note] if note else []


def _gateway_notes(kind: ActionKind, target: Mirrored, params: dict[str, Any]) -> list[str]:
    """What the target's gateway says the action will make there (``Connector.preview_notes``)."""
    account = getattr(target, "account", None)
    if account is None:
        return []
    try:
        cls = connector_class(account.kind)
    except UserFacingError:
        return []
    return cls.preview_notes(action=kind.value, target=target, params=params)


def _gateway_refund_lines(charge: Charge) -> list[str]:
    """What the connector adds about this refund (e.g. WooCommerce: whether the shop's
    payment method refunds automatically); nothing if the gateway cannot be asked now."""
    from billingdesk.core.errors import BillingdeskError
    from billingdesk.gateways.registry import connector_for

    try:
        return connector_for(charge.account).refund_preview(charge_id=charge.gateway_id)
    except BillingdeskError:
        return []


def _date(value: datetime | None) -> str:
    return day_format(value) if value else "an unknown date"


def _effect_lines(kind: ActionKind, target: Mirrored, p: dict[str, Any]) -> list[str]:
    if isinstance(target, Charge):
        card = f"{target.card_brand} •••• {target.card_last4}" if target.card_last4 else "the card"
        if kind is ActionKind.REFUND:
            left = target.refundable - p["amount"]
            return [
                f"Refund {Money(p['amount'], target.currency)} to {card}.",
                f"{Money(left, target.currency)} will remain refundable on this charge.",
            ]
        if kind is ActionKind.CAPTURE:
            released = target.amount - p["amount"]
            lines = [f"Charge {Money(p['amount'], target.currency)} to {card} now."]
            if released:
                lines.append(
                    f"The other {Money(released, target.currency)} of the hold is released."
                )
            return lines
        if kind is ActionKind.VOID:
            return [
                f"Release the hold of {Money(target.amount, target.currency)} on {card}.",
                "Nothing will be charged.",
            ]
    if isinstance(target, Subscription) and kind is ActionKind.CANCEL_SUBSCRIPTION:
        if p["at_period_end"]:
            return [
                f"{target.product or target.plan} stays active until "
                f"{_date(target.current_period_end)}, then ends.",
                "No further renewals will be charged.",
            ]
        return [
            f"{target.product or target.plan} ends now: access stops immediately.",
            "No refund is made by cancelling; refund a charge separately if one is due.",
        ]
    if isinstance(target, Invoice) and kind is ActionKind.SEND_INVOICE:
        email = target.customer.email if target.customer else "the customer"
        return [
            f"Email invoice {target.number or target.gateway_id} "
            f"({Money(target.total, target.currency)}, {target.status}) to {email}."
        ]
    if kind is ActionKind.CREATE_SUBSCRIPTION:
        trial = f" with a {p['trial_days']}-day trial" if p.get("trial_days") else ""
        lines = [f"Subscribe the customer to {p['plan']}, quantity {p['quantity']}{trial}."]
        return lines + _approval_note(target)
    if kind is ActionKind.APPLY_COUPON:
        coupon = coupon_get(target, p["coupon_id"])
        what = "subscription" if isinstance(target, Subscription) else "customer"
        return [f"Apply coupon {coupon.name or coupon.gateway_id} to this {what}."]
    if kind is ActionKind.ADD_TAX_ID:
        return [f"Add {TAX_ID_TYPES[p['tax_type']]} {p['value']} to the customer."]
    if kind is ActionKind.PAYMENT_REQUEST:
        return [f"Create a pay link for {Money(p['amount'], p['currency'])}: {p['description']}."]
    if kind is ActionKind.AUTHORIZE:
        return [f"Place a hold of {Money(p['amount'], p['currency'])} on the customer's card."]
    return []
