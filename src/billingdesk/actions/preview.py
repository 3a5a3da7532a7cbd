"""What the confirm step shows before an action runs."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

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
from billingdesk.core.labels import label
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
            refusal=_(
                "A %(action)s on this record is already awaiting approval (request "
                "#%(request)s); wait for finance's decision."
            )
            % {"action": _(kind.label), "request": waiting.pk},
        )
    approval = limit_refusal(
        user=user, kind=kind, amount=amount, currency=currency,
        account_id=target.account_id, target_kind=target_kind,  # type: ignore[attr-defined]
        target_id=target.gateway_id,
    )  # fmt: skip
    if approval:
        lines.append(_("%(why)s It will be sent to finance for approval.") % {"why": approval})
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
    return day_format(value) if value else _("an unknown date")


def _pause_lines(target: Subscription) -> list[str]:
    return [
        _("%(plan)s is paused: no renewal is charged until it is resumed.")
        % {"plan": target.product or target.plan},
        _("The subscription is kept and can be resumed at any time."),
    ]


def _effect_lines(kind: ActionKind, target: Mirrored, p: dict[str, Any]) -> list[str]:
    if isinstance(target, Charge):
        card = (
            f"{target.card_brand} •••• {target.card_last4}" if target.card_last4 else _("the card")
        )
        if kind is ActionKind.REFUND:
            left = target.refundable - p["amount"]
            return [
                _("Refund %(amount)s to %(card)s.")
                % {"amount": Money(p["amount"], target.currency), "card": card},
                _("%(amount)s will remain refundable on this charge.")
                % {"amount": Money(left, target.currency)},
            ]
        if kind is ActionKind.CAPTURE:
            released = target.amount - p["amount"]
            lines = [
                _("Charge %(amount)s to %(card)s now.")
                % {"amount": Money(p["amount"], target.currency), "card": card}
            ]
            if released:
                lines.append(
                    _("The other %(amount)s of the hold is released.")
                    % {"amount": Money(released, target.currency)}
                )
            return lines
        if kind is ActionKind.VOID:
            return [
                _("Release the hold of %(amount)s on %(card)s.")
                % {"amount": Money(target.amount, target.currency), "card": card},
                _("Nothing will be charged."),
            ]
    if isinstance(target, Subscription) and kind is ActionKind.CANCEL_SUBSCRIPTION:
        plan = target.product or target.plan
        if p["at_period_end"]:
            return [
                _("%(plan)s stays active until %(day)s, then ends.")
                % {"plan": plan, "day": _date(target.current_period_end)},
                _("No further renewals will be charged."),
            ]
        if p.get("refund") == "partial":
            return [
                _("%(plan)s ends now: access stops immediately.") % {"plan": plan},
                _("The unused part of the current period is refunded to the customer."),
            ]
        if p.get("refund") == "full":
            return [
                _("%(plan)s ends now: access stops immediately.") % {"plan": plan},
                _("The subscription's last paid invoice is refunded in full."),
            ]
        return [
            _("%(plan)s ends now: access stops immediately.") % {"plan": plan},
            _("No refund is made by cancelling; refund a charge separately if one is due."),
        ]
    if isinstance(target, Subscription) and kind is ActionKind.PAUSE_SUBSCRIPTION:
        return _pause_lines(target)
    if isinstance(target, Subscription) and kind is ActionKind.RESUME_SUBSCRIPTION:
        return [
            _("%(plan)s is billed again from its next renewal.")
            % {"plan": target.product or target.plan},
            _("Nothing is charged for the time it was paused."),
        ]
    if isinstance(target, Invoice) and kind is ActionKind.SEND_INVOICE:
        email = target.customer.email if target.customer else _("the customer")
        return [
            _("Email invoice %(number)s (%(amount)s, %(status)s) to %(email)s.")
            % {
                "number": target.number or target.gateway_id,
                "amount": Money(target.total, target.currency),
                "status": label(target.status, "status"),
                "email": email,
            }
        ]
    if kind in (ActionKind.VOID_INVOICE, ActionKind.REACTIVATE_SUBSCRIPTION):
        return _void_reactivate_lines(kind, target)
    if kind is ActionKind.CREATE_SUBSCRIPTION:
        values = {"plan": p["plan"], "quantity": p["quantity"], "days": p.get("trial_days")}
        if p.get("trial_days"):
            lines = [
                _(
                    "Subscribe the customer to %(plan)s, quantity %(quantity)s "
                    "with a %(days)s-day trial."
                )
                % values
            ]
        else:
            lines = [_("Subscribe the customer to %(plan)s, quantity %(quantity)s.") % values]
        return lines + _approval_note(target)
    if kind is ActionKind.APPLY_COUPON:
        coupon = coupon_get(target, p["coupon_id"])
        name = coupon.name or coupon.gateway_id
        if isinstance(target, Subscription):
            return [_("Apply coupon %(coupon)s to this subscription.") % {"coupon": name}]
        return [_("Apply coupon %(coupon)s to this customer.") % {"coupon": name}]
    if kind is ActionKind.ADD_TAX_ID:
        return [
            _("Add %(type)s %(value)s to the customer.")
            % {"type": _(TAX_ID_TYPES[p["tax_type"]]), "value": p["value"]}
        ]
    if kind is ActionKind.PAYMENT_REQUEST:
        return [
            _("Create a pay link for %(amount)s: %(description)s.")
            % {"amount": Money(p["amount"], p["currency"]), "description": p["description"]}
        ]
    if kind is ActionKind.AUTHORIZE:
        return [
            _("Place a hold of %(amount)s on the customer's card.")
            % {"amount": Money(p["amount"], p["currency"])}
        ]
    return []


def _gateway_name(target: Mirrored) -> str:
    try:
        return connector_class(target.account.kind).display_name
    except UserFacingError:
        return str(target.account.kind)


def _void_reactivate_lines(kind: ActionKind, target: Mirrored) -> list[str]:
    """Voiding an open invoice; reactivating a subscription set to end at the period end."""
    gateway = _gateway_name(target)
    if isinstance(target, Invoice) and kind is ActionKind.VOID_INVOICE:
        return [
            _(
                "The invoice %(number)s (%(amount)s due) is voided at %(gateway)s; the "
                "customer owes nothing on it."
            )
            % {
                "number": target.number or target.gateway_id,
                "amount": Money(target.amount_due or target.total, target.currency),
                "gateway": gateway,
            },
            _("A voided invoice cannot be reopened: issue a new one if the amount is due."),
        ]
    if isinstance(target, Subscription) and kind is ActionKind.REACTIVATE_SUBSCRIPTION:
        values = {
            "plan": target.product or target.plan,
            "gateway": gateway,
            "day": _date(target.current_period_end),
        }
        return [
            _("%(plan)s is reactivated at %(gateway)s: it no longer ends on %(day)s.") % values,
            _("Renewals resume: the next one is charged on %(day)s.") % values,
        ]
    return []
