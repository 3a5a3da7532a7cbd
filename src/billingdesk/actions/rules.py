"""Which actions apply to what, and the checks every action passes before it runs."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.models import ActionKind
from billingdesk.actions.reasons import reasons_for
from billingdesk.billing.models import (
    Charge,
    Coupon,
    Customer,
    Dispute,
    Invoice,
    Mirrored,
    Subscription,
)
from billingdesk.core.errors import (
    AmountTooLarge,
    CapabilityMissing,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from billingdesk.core.labels import label
from billingdesk.core.money import Money
from billingdesk.gateways.interface import (
    Capability,
    ChargeStatus,
    Connector,
    DisputeStatus,
    InvoiceStatus,
    SubscriptionStatus,
)
from billingdesk.gateways.registry import connector_class, connector_for

User = AuthUser | AnonymousUser

# Which mirror rows each action applies to.
TARGETS: dict[ActionKind, tuple[type[Mirrored], ...]] = {
    ActionKind.REFUND: (Charge,),
    ActionKind.CAPTURE: (Charge,),
    ActionKind.VOID: (Charge,),
    ActionKind.AUTHORIZE: (Customer,),
    ActionKind.CANCEL_SUBSCRIPTION: (Subscription,),
    ActionKind.CREATE_SUBSCRIPTION: (Customer,),
    ActionKind.SEND_INVOICE: (Invoice,),
    ActionKind.APPLY_COUPON: (Customer, Subscription),
    ActionKind.ADD_TAX_ID: (Customer,),
    ActionKind.PAYMENT_REQUEST: (Customer,),
    ActionKind.DISPUTE_SUBMIT: (Dispute,),
    ActionKind.DISPUTE_ACCEPT: (Dispute,),
    ActionKind.PAUSE_SUBSCRIPTION: (Subscription,),
    ActionKind.RESUME_SUBSCRIPTION: (Subscription,),
    ActionKind.VOID_INVOICE: (Invoice,),
    ActionKind.REACTIVATE_SUBSCRIPTION: (Subscription,),
}

_CAPABILITY: dict[ActionKind, Capability] = {
    ActionKind.REFUND: Capability.REFUND,
    ActionKind.CAPTURE: Capability.CAPTURE,
    ActionKind.VOID: Capability.VOID,
    ActionKind.AUTHORIZE: Capability.CAPTURE,
    ActionKind.CANCEL_SUBSCRIPTION: Capability.CANCEL_SUBSCRIPTION,
    ActionKind.CREATE_SUBSCRIPTION: Capability.CREATE_SUBSCRIPTION,
    ActionKind.SEND_INVOICE: Capability.SEND_INVOICE,
    ActionKind.APPLY_COUPON: Capability.APPLY_COUPON,
    ActionKind.ADD_TAX_ID: Capability.ADD_TAX_ID,
    ActionKind.PAYMENT_REQUEST: Capability.PAYMENT_REQUEST,
    ActionKind.DISPUTE_SUBMIT: Capability.DISPUTE_EVIDENCE,
    ActionKind.DISPUTE_ACCEPT: Capability.DISPUTE_EVIDENCE,
    ActionKind.PAUSE_SUBSCRIPTION: Capability.PAUSE_SUBSCRIPTION,
    ActionKind.RESUME_SUBSCRIPTION: Capability.PAUSE_SUBSCRIPTION,
    ActionKind.VOID_INVOICE: Capability.VOID_INVOICE,
    ActionKind.REACTIVATE_SUBSCRIPTION: Capability.REACTIVATE_SUBSCRIPTION,
}

# The dispute statuses that wait for the merchant's answer (evidence or acceptance).
DISPUTE_ANSWERABLE = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING)
DISPUTE_KINDS = frozenset({ActionKind.DISPUTE_SUBMIT, ActionKind.DISPUTE_ACCEPT})
# Evidence limits checked before a request is claimed (the connector checks its own too).
_EVIDENCE_FIELDS = 40
_EVIDENCE_TEXT_LIMIT = 20_000

# Tax id types agents may add (the gateways' common vocabulary, Stripe's names).
TAX_ID_TYPES = {
    "eu_vat": "EU VAT number",
    "gb_vat": "UK VAT number",
    "au_abn": "Australian ABN",
    "nz_gst": "New Zealand GST number",
    "ca_bn": "Canadian BN",
    "ca_gst_hst": "Canadian GST/HST number",
    "in_gst": "Indian GSTIN",
    "ch_vat": "Swiss VAT number",
    "no_vat": "Norwegian VAT number",
    "us_ein": "US EIN",
}


_ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)


def target_connector(target: Mirrored) -> Connector:
    return connector_for(target.account)


def state_refusal(
    kind: ActionKind, target: Mirrored, connector: type[Connector] | None = None
) -> str:
    """Why this action cannot apply to the target as it is now ('' if it can).
    ``connector``: the target's connector class, when the caller has it at hand."""
    if target.deleted:
        return "This record was deleted at the gateway."
    if isinstance(target, Charge):
        if kind is ActionKind.REFUND:
            if target.status == ChargeStatus.DISPUTED:
                return "A disputed charge cannot be refunded; respond to the dispute instead."
            if target.status not in (ChargeStatus.CAPTURED, ChargeStatus.PARTIALLY_REFUNDED):
                return f"This charge is {target.get_status_display()}: it cannot be refunded."  # type: ignore[attr-defined]
            if target.refundable <= 0:
                return "Nothing remains to refund on this charge."
        elif (kind is ActionKind.VOID and not _voidable(target, connector)) or (
            kind is ActionKind.CAPTURE and target.status != ChargeStatus.AUTHORIZED
        ):
            return "Only an authorised, uncaptured payment can be captured or voided."
    if (
        isinstance(target, Dispute)
        and kind in DISPUTE_KINDS
        and target.status not in DISPUTE_ANSWERABLE
    ):
        return f"This dispute is {target.get_status_display()}: it takes no answer now."  # type: ignore[attr-defined]
    if (
        isinstance(target, Subscription)
        and kind is ActionKind.CANCEL_SUBSCRIPTION
        and target.status in _ENDED
    ):
        return "This subscription has already ended."
    refusal = _pause_refusal(kind, target)
    if refusal:
        return refusal
    if (
        isinstance(target, Invoice)
        and kind is ActionKind.SEND_INVOICE
        and target.status in ("draft", "void")
    ):
        return f"A {target.status} invoice cannot be sent."
    refusal = _void_reactivate_refusal(kind, target)
    if refusal:
        return refusal
    return ""


def _void_reactivate_refusal(kind: ActionKind, target: Mirrored) -> str:
    """Only an open (unpaid) invoice can be voided; only a subscription set to cancel at the
    period end, and not yet ended, can be reactivated."""
    if isinstance(target, Invoice) and kind is ActionKind.VOID_INVOICE:
        if target.status == InvoiceStatus.PAID:
            return "A paid invoice cannot be voided: refund its payment instead."
        if target.status != InvoiceStatus.OPEN:
            return f"A {target.status} invoice cannot be voided: only an open, unpaid one can."
    if isinstance(target, Subscription) and kind is ActionKind.REACTIVATE_SUBSCRIPTION:
        if target.status in _ENDED or target.ended_at is not None:
            return "This subscription has already ended: it cannot be reactivated."
        if not target.cancel_at_period_end:
            return "This subscription is not set to cancel: there is nothing to reactivate."
    return ""


# Pausing applies to a subscription being billed; resuming to a paused one.
PAUSABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


def _pause_refusal(kind: ActionKind, target: Mirrored) -> str:
    if not isinstance(target, Subscription):
        return ""
    status = label(target.status, "status")
    if kind is ActionKind.PAUSE_SUBSCRIPTION and target.status not in PAUSABLE:
        return f"This subscription is {status}: only an active one can be paused."
    if kind is ActionKind.RESUME_SUBSCRIPTION and target.status != SubscriptionStatus.PAUSED:
        return f"This subscription is {status}: only a paused one can be resumed."
    return ""


def actions_available(*, user: User, target: Mirrored) -> list[ActionKind]:
    """The actions to offer on this record to this agent (none for read-only agents)."""
    return actions_available_many(user=user, targets=[target])[0]


def actions_available_many(*, user: User, targets: Sequence[Mirrored]) -> list[list[ActionKind]]:
    """``actions_available`` for each of ``targets``, in order, for a page of rows at once.

    The agent's role is read once, and which actions a kind of record on a gateway account
    supports is worked out once per (model, account) pair; only the record's own state is
    checked per row.
    """
    if ROLE_RANK[role_of(user)] < ROLE_RANK[Role.AGENT]:
        return [[] for _ in targets]
    waiting = _awaiting_many(targets)
    supported: dict[tuple[type[Mirrored], Any], list[ActionKind]] = {}
    classes: dict[Any, type[Connector]] = {}
    offered = []
    for target in targets:
        pending = waiting.get(
            (target.account_id, type(target).__name__.lower(), target.gateway_id),
            [],  # type: ignore[attr-defined]
        )
        # What waits for approval on this row is shown on it, and not offered a second time.
        target.awaiting = [  # type: ignore[attr-defined]
            (
                request.kind,
                f"{ActionKind(request.kind).label} "
                + (
                    f"of {Money(request.amount, request.currency)} "
                    if request.amount is not None and request.currency
                    else ""
                )
                + "awaiting approval",
            )
            for request in pending
        ]
        blocked = {request.kind for request in pending}
        key = (type(target), target.account_id)  # type: ignore[attr-defined]
        kinds = supported.get(key)
        if kinds is None:
            connector = target_connector(target)
            classes[target.account_id] = type(connector)  # type: ignore[attr-defined]
            kinds = supported[key] = [
                kind
                for kind, models in TARGETS.items()
                if isinstance(target, models) and connector.supports(_CAPABILITY[kind])
            ]
        offered.append(
            [
                kind
                for kind in kinds
                if kind not in blocked
                and not state_refusal(kind, target, classes[target.account_id])  # type: ignore[attr-defined]
            ]
        )
    return offered


def _awaiting_many(targets: Sequence[Mirrored]) -> dict[tuple[Any, str, str], list[Any]]:
    """The requests awaiting approval on these rows, by (account id, kind of row, gateway id)."""
    from billingdesk.actions.models import ActionRequest

    if not targets:
        return {}
    found: dict[tuple[Any, str, str], list[Any]] = {}
    rows = ActionRequest.objects.filter(
        status=ActionRequest.Status.PENDING_APPROVAL,
        target_id__in={t.gateway_id for t in targets},
    ).only("kind", "amount", "currency", "account_id", "target_kind", "target_id")
    for request in rows:
        key = (request.account_id, request.target_kind, request.target_id)
        found.setdefault(key, []).append(request)
    return found


# --- validation ---------------------------------------------------------------------------


def _voidable(charge: Charge, cls: type[Connector] | None) -> bool:
    if charge.status == ChargeStatus.AUTHORIZED:
        return True
    if cls is None:
        try:
            cls = connector_class(charge.account.kind)
        except NotFound:
            return False
    return cls.voidable(status=ChargeStatus(charge.status), amount_refunded=charge.amount_refunded)


def period_end_cancel_supported(target: Mirrored) -> bool:
    """Whether the target's gateway can end a subscription at the period end (Braintree,
    for one, cancels at once)."""
    return connector_for(target.account).supports(Capability.CANCEL_AT_PERIOD_END)


TERMINATE_REFUNDS = ("none", "partial", "full")


def _terminate_refund(target: Mirrored, params: dict[str, Any], *, at_period_end: bool) -> str:
    """``partial`` or ``full`` for a cancellation now with a refund ('' for none)."""
    refund = str(params.get("refund") or "none").strip().lower()
    if refund not in TERMINATE_REFUNDS:
        raise InvalidRequest("refund must be none, partial or full")
    if refund == "none":
        return ""
    if at_period_end:
        raise InvalidRequest("A refund comes only with cancelling now, not at the period end.")
    connector = connector_for(target.account)
    if not connector.supports(Capability.TERMINATE_WITH_REFUND):
        raise CapabilityMissing(
            f"{connector.display_name} cannot refund while cancelling: cancel, then refund "
            "a charge separately."
        )
    return refund


def terminate_refund_supported(target: Mirrored) -> bool:
    """Whether the target's gateway can end a subscription now with a refund (Recurly)."""
    return connector_for(target.account).supports(Capability.TERMINATE_WITH_REFUND)


def _int(params: dict[str, Any], name: str, *, default: int | None = None) -> int | None:
    value = params.get(name, default)
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise InvalidRequest(f"{name.replace('_', ' ')} must be a whole number") from None
    return value


def _text(params: dict[str, Any], name: str, *, required: bool, limit: int = 500) -> str:
    value = str(params.get(name) or "").strip()
    if required and not value:
        raise InvalidRequest(f"{name.replace('_', ' ')} is required")
    if len(value) > limit:
        raise InvalidRequest(f"{name.replace('_', ' ')} is longer than {limit} characters")
    return value


def _currency(params: dict[str, Any], target: Mirrored) -> str:
    fallback = getattr(target, "currency", "") or target.account.default_currency
    code = str(params.get("currency") or fallback or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidRequest("currency must be a three-letter ISO 4217 code")
    return code


def params_clean(kind: ActionKind, target: Mirrored, params: dict[str, Any]) -> dict[str, Any]:
    """Validate and complete the parameters against the target's current state."""
    if isinstance(target, Charge) and kind is ActionKind.REFUND:
        amount = _int(params, "amount", default=target.refundable)
        assert amount is not None
        if amount <= 0:
            raise InvalidRequest("The refund amount must be more than zero.")
        if amount > target.refundable:
            remaining = Money(target.refundable, target.currency)
            raise AmountTooLarge(f"Only {remaining} remains refundable on this charge.")
        return {"amount": amount}
    if isinstance(target, Charge) and kind is ActionKind.CAPTURE:
        amount = _int(params, "amount", default=target.amount)
        assert amount is not None
        if amount <= 0:
            raise InvalidRequest("The amount to capture must be more than zero.")
        if amount > target.amount:
            held = Money(target.amount, target.currency)
            raise AmountTooLarge(f"At most {held} was authorised; capture that or less.")
        return {"amount": amount}
    if kind is ActionKind.VOID or kind is ActionKind.SEND_INVOICE:
        return {}
    if kind in (
        ActionKind.PAUSE_SUBSCRIPTION,
        ActionKind.RESUME_SUBSCRIPTION,
        ActionKind.VOID_INVOICE,
        ActionKind.REACTIVATE_SUBSCRIPTION,
    ):
        return {}
    if kind is ActionKind.CANCEL_SUBSCRIPTION:
        later = period_end_cancel_supported(target)
        at_period_end = params.get("at_period_end", later)
        if isinstance(at_period_end, str):
            at_period_end = at_period_end.lower() in {"1", "true", "on", "yes", "period_end"}
        if at_period_end and not later:
            raise CapabilityMissing(
                f"{connector_for(target.account).display_name} cancels a subscription at once "
                "and cannot end it at the period end: choose to cancel now."
            )
        if at_period_end and getattr(target, "cancel_at_period_end", False):
            raise InvalidRequest("This subscription is already set to end at the period end.")
        refund = _terminate_refund(target, params, at_period_end=bool(at_period_end))
        if refund:
            return {"at_period_end": False, "refund": refund}
        return {"at_period_end": bool(at_period_end)}
    if kind is ActionKind.CREATE_SUBSCRIPTION:
        quantity = _int(params, "quantity", default=1)
        trial_days = _int(params, "trial_days")
        assert quantity is not None
        if not 1 <= quantity <= 10_000:
            raise InvalidRequest("quantity must be between 1 and 10000")
        if trial_days is not None and not 0 <= trial_days <= 730:
            raise InvalidRequest("trial days must be between 0 and 730")
        coupon = _text(params, "coupon_id", required=False, limit=255) or None
        if coupon:
            coupon_get(target, coupon)
        return {
            "plan": _text(params, "plan", required=True, limit=255),
            "quantity": quantity,
            "trial_days": trial_days,
            "coupon_id": coupon,
        }
    if kind is ActionKind.APPLY_COUPON:
        coupon_id = _text(params, "coupon_id", required=True, limit=255)
        coupon_get(target, coupon_id)
        return {"coupon_id": coupon_id}
    if kind is ActionKind.ADD_TAX_ID:
        tax_type = _text(params, "tax_type", required=True, limit=40)
        if tax_type not in TAX_ID_TYPES:
            raise InvalidRequest(f"unknown tax id type {tax_type!r}")
        value = _text(params, "value", required=True, limit=60).replace(" ", "").upper()
        if not value.replace("-", "").replace(".", "").isalnum() or len(value) < 4:
            raise InvalidRequest(f"{value!r} is not a {TAX_ID_TYPES[tax_type]}")
        return {"tax_type": tax_type, "value": value}
    if kind in (ActionKind.PAYMENT_REQUEST, ActionKind.AUTHORIZE):
        amount = _int(params, "amount")
        if amount is None or amount <= 0:
            raise InvalidRequest("The amount must be more than zero.")
        if amount > 100_000_000_00:
            raise InvalidRequest("The amount is too large.")
        return {
            "amount": amount,
            "currency": _currency(params, target),
            "description": _text(params, "description", required=True, limit=500),
        }
    if kind is ActionKind.DISPUTE_ACCEPT:
        return {}
    if kind is ActionKind.DISPUTE_SUBMIT:
        return _evidence_clean(params)
    raise InvalidRequest(f"{kind} does not apply to this record")


def _evidence_clean(params: dict[str, Any]) -> dict[str, Any]:
    """``{"evidence": {field: text}, "files": {field: sha256}}``: the text fields the
    gateway takes, and the stored files (``ActionFile``) its file fields take."""
    from billingdesk.actions.models import ActionFile

    evidence = params.get("evidence")
    files = params.get("files") or {}
    if not isinstance(evidence, dict) or not isinstance(files, dict):
        raise InvalidRequest("The evidence must be a set of named fields.")
    if len(evidence) + len(files) > _EVIDENCE_FIELDS:
        raise InvalidRequest("The evidence has too many fields.")
    text: dict[str, str] = {}
    for name, value in evidence.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidRequest("Each evidence field must be text.")
        if len(value) > _EVIDENCE_TEXT_LIMIT:
            raise InvalidRequest(
                f"Evidence field {name} is longer than {_EVIDENCE_TEXT_LIMIT} characters."
            )
        if value.strip():
            text[name] = value.strip()
    if not text:
        raise InvalidRequest("The evidence is empty: write the cover text at least.")
    digests = {str(k): str(v) for k, v in files.items()}
    if len(set(digests.values()) - _stored(ActionFile, digests.values())):
        raise InvalidRequest("An evidence file is missing; assemble the packet again.")
    return {"evidence": text, "files": digests}


def _stored(model: Any, digests: Any) -> set[str]:
    return set(model.objects.filter(pk__in=list(digests)).values_list("pk", flat=True))


def coupon_get(target: Mirrored, coupon_id: str) -> Coupon:
    coupon = Coupon.objects.filter(account=target.account, gateway_id=coupon_id).first()
    if coupon is None or not coupon.valid:
        raise InvalidRequest(f"coupon {coupon_id!r} does not exist or is no longer valid")
    return coupon


def reason_clean(kind: ActionKind, reason_code: str, reason_text: str) -> tuple[str, str]:
    code = (reason_code or "").strip()
    text = (reason_text or "").strip()
    reason = next((r for r in reasons_for(kind) if r.code == code), None)
    if reason is None:
        raise InvalidRequest("Choose a reason for this action.")
    if (kind in settings.ACTION_REASON_TEXT_REQUIRED or reason.text_required) and not text:
        raise InvalidRequest("Describe the reason in a few words.")
    if len(text) > 2000:
        raise InvalidRequest("The reason is longer than 2000 characters.")
    return code, text


def action_check(user: User, kind: ActionKind, target: Mirrored) -> Connector:
    if ROLE_RANK[role_of(user)] < ROLE_RANK[Role.AGENT]:
        raise NotAllowed("Your role is read-only: you can see billing data but not change it.")
    if not isinstance(target, TARGETS[kind]):
        raise InvalidRequest(f"{ActionKind(kind).label} does not apply to this record.")
    connector = target_connector(target)
    if not connector.supports(_CAPABILITY[kind]):
        raise CapabilityMissing(
            f"{connector.display_name} does not support “{ActionKind(kind).label}”."
        )
    refusal = state_refusal(kind, target)
    if refusal:
        raise NotAllowed(refusal)
    return connector


def target_person_id(target: Mirrored) -> int | None:
    if isinstance(target, Customer):
        return target.person_id
    customer = getattr(target, "customer", None)
    return customer.person_id if customer is not None else None


def money_of(kind: ActionKind, target: Mirrored, params: dict[str, Any]) -> tuple[int | None, str]:
    currency = str(params.get("currency") or getattr(target, "currency", "") or "")
    amount = params.get("amount")
    return (int(amount) if amount is not None else None), currency
