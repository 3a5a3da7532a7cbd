"""Stripe charges, refunds, payment intents (a charge, or the attempt while it has none) and
disputes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    GatewayObject,
    GwCharge,
    GwDispute,
    GwRefund,
    RefundStatus,
)
from billingdesk.gateways.stripe.mapping.customers import payment_method
from billingdesk.gateways.stripe.mapping.fields import (
    JSON,
    _base,
    _cur,
    _int,
    _s,
    list_data,
    ref,
    ts,
)


def charge_status(obj: JSON, *, payment_intent_status: str = "") -> ChargeStatus:
    """https://docs.stripe.com/api/charges/object: ``status`` is only succeeded / pending /
    failed; capture, refund and dispute state live in ``captured``, ``refunded``,
    ``amount_refunded`` and ``disputed``."""
    status = obj.get("status")
    if status == "failed":
        return ChargeStatus.FAILED
    if status == "pending":
        return ChargeStatus.PENDING
    if obj.get("disputed"):
        return ChargeStatus.DISPUTED
    if not obj.get("captured", True):
        # An authorisation released (PaymentIntent canceled) shows as refunded, uncaptured.
        if obj.get("refunded") or payment_intent_status == "canceled":
            return ChargeStatus.VOIDED
        return ChargeStatus.AUTHORIZED
    refunded = _refunded(obj)
    if refunded and (obj.get("refunded") or refunded >= _captured(obj)):
        return ChargeStatus.REFUNDED
    if refunded:
        return ChargeStatus.PARTIALLY_REFUNDED
    return ChargeStatus.CAPTURED


def _captured(obj: JSON) -> int:
    if "amount_captured" in obj and obj["amount_captured"] is not None:
        return _int(obj["amount_captured"])
    # Older API versions (and localstripe) have no amount_captured.
    return (
        _int(obj.get("amount")) if obj.get("captured") and obj.get("status") == "succeeded" else 0
    )


def _refunded(obj: JSON) -> int:
    """What was given back of what was taken. A partial capture releases the rest of the
    authorisation, and Stripe counts that remainder in ``amount_refunded``
    (https://docs.stripe.com/api/charges/capture: "any additional amount will be
    automatically refunded"); it was never taken, so it is no refund: refundable stays
    ``amount_captured`` - refunds."""
    refunded = _int(obj.get("amount_refunded"))
    if obj.get("captured") and obj.get("amount_captured") is not None:
        released = max(_int(obj.get("amount")) - _int(obj["amount_captured"]), 0)
        refunded = max(refunded - released, 0)
    return refunded


def charge(obj: JSON, updated: datetime, *, payment_intent_status: str = "") -> GwCharge:
    """https://docs.stripe.com/api/charges/object"""
    details = obj.get("payment_method_details") or {}
    card = details.get("card") or {}
    pm = obj.get("payment_method")
    if not card and isinstance(pm, Mapping):
        card = pm.get("card") or {}
    pi = obj.get("payment_intent")
    if isinstance(pi, Mapping):
        payment_intent_status = payment_intent_status or _s(pi.get("status"))
    metadata = obj.get("metadata") or {}
    billing = obj.get("billing_details") or {}
    return GwCharge(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=charge_status(obj, payment_intent_status=payment_intent_status),
        amount_captured=_captured(obj),
        amount_refunded=_refunded(obj),
        description=_s(obj.get("description")),
        product=_s(metadata.get("product")),
        order_id=_s(metadata.get("order_id")),
        alt_id=ref(pi) or "",
        payment_method_id=ref(pm),
        card_brand=_s(card.get("brand")),
        card_last4=_s(card.get("last4"))[-4:],
        invoice_id=ref(obj.get("invoice")),
        failure_code=_s(obj.get("failure_code")),
        failure_message=_s(obj.get("failure_message")),
        receipt_email=_s(obj.get("receipt_email")) or _s(billing.get("email")),
    )


_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}


def refund(obj: JSON, updated: datetime, *, charge_id: str | None = None) -> GwRefund:
    """https://docs.stripe.com/api/refunds/object. The agent's own words travel in
    ``metadata.reason`` (Stripe's ``reason`` only takes three fixed values)."""
    metadata = obj.get("metadata") or {}
    reason = _s(metadata.get("reason")) or _s(obj.get("reason"))
    return GwRefund(
        **_base(obj, updated),
        charge_id=ref(obj.get("charge")) or charge_id or "",
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_REFUND_STATUS.get(_s(obj.get("status")), RefundStatus.PENDING),
        reason=reason,
    )


def charge_bundle(
    obj: JSON, updated: datetime, *, payment_intent_status: str = ""
) -> Iterator[GatewayObject]:
    """A charge with its embedded refunds (``expand[]=data.refunds``) and the card it used."""
    gw = charge(obj, updated, payment_intent_status=payment_intent_status)
    yield gw
    for item in list_data(obj.get("refunds")):
        yield refund(item, updated, charge_id=gw.id)
    # The card as the charge saw it, versioned at the charge's creation: it fills in a card
    # the mirror lacks but never overrides a newer view of it (e.g. which card is default,
    # known only from the customer).
    as_of = min(updated, ts(obj.get("created")) or updated)
    details = (obj.get("payment_method_details") or {}).get("card")
    pm = obj.get("payment_method")
    if isinstance(pm, Mapping):
        yield payment_method(pm, as_of)
    elif gw.payment_method_id and isinstance(details, Mapping) and details.get("last4"):
        yield payment_method(
            {
                "id": gw.payment_method_id,
                "type": "card",
                "customer": gw.customer_id,
                "card": details,
                "created": obj.get("created"),
            },
            as_of,
        )


# A PaymentIntent that has no charge yet (https://docs.stripe.com/payments/paymentintents/lifecycle):
# still open while it can be paid, or canceled before any attempt (nothing was taken or held,
# so VOIDED, as for a canceled intent's released authorisation).
_ATTEMPT_STATUS = {
    "requires_payment_method": ChargeStatus.PENDING,
    "requires_confirmation": ChargeStatus.PENDING,
    "requires_action": ChargeStatus.PENDING,
    "processing": ChargeStatus.PENDING,
    "canceled": ChargeStatus.VOIDED,
}


def payment_attempt(obj: JSON, updated: datetime) -> GwCharge:
    """https://docs.stripe.com/api/payment_intents/object, for an intent with no charge: a
    charge row keyed by the intent's id (its ``alt_id`` too), which the intent's first charge
    supersedes in the mirror. A failed attempt (3-D Secure failed, a decline before any
    charge) keeps its error while the intent can still be paid."""
    error = obj.get("last_payment_error") or {}
    pm = obj.get("payment_method")
    card = (pm.get("card") or {}) if isinstance(pm, Mapping) else {}
    metadata = obj.get("metadata") or {}
    return GwCharge(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_ATTEMPT_STATUS.get(_s(obj.get("status")), ChargeStatus.PENDING),
        description=_s(obj.get("description")),
        product=_s(metadata.get("product")),
        order_id=_s(metadata.get("order_id")),
        alt_id=_s(obj.get("id")),
        payment_method_id=ref(pm),
        card_brand=_s(card.get("brand")),
        card_last4=_s(card.get("last4"))[-4:],
        invoice_id=ref(obj.get("invoice")),
        failure_code=_s(error.get("decline_code") or error.get("code")),
        failure_message=_s(error.get("message")),
        receipt_email=_s(obj.get("receipt_email")),
    )


def latest_charge(obj: JSON) -> Any:
    """A PaymentIntent's charge: ``latest_charge`` (an id, or the charge when expanded), or
    the first of the ``charges`` list of API versions before 2022-11-15; None if it has none."""
    charges = list_data(obj.get("charges"))
    return obj.get("latest_charge") or (charges[0] if charges else None)


def payment_intent_bundle(obj: JSON, updated: datetime) -> Iterator[GatewayObject]:
    """https://docs.stripe.com/api/payment_intents/object: the mirror keeps the PaymentIntent's
    charge (when expanded), with the intent's status deciding voids, or the intent itself
    while it has no charge. (An unexpanded charge maps to nothing: the caller fetches it.)"""
    latest = latest_charge(obj)
    if isinstance(latest, Mapping):
        yield from charge_bundle(latest, updated, payment_intent_status=_s(obj.get("status")))
    elif not latest:
        yield payment_attempt(obj, updated)


_DISPUTE_STATUS = {
    "warning_needs_response": DisputeStatus.WARNING,
    "warning_under_review": DisputeStatus.WARNING,
    "warning_closed": DisputeStatus.WARNING,
    "needs_response": DisputeStatus.NEEDS_RESPONSE,
    "under_review": DisputeStatus.UNDER_REVIEW,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
    "prevented": DisputeStatus.WON,  # stopped before it cost the merchant anything
}


def dispute(obj: JSON, updated: datetime) -> GwDispute:
    """https://docs.stripe.com/api/disputes/object"""
    evidence = obj.get("evidence_details") or {}
    return GwDispute(
        **_base(obj, updated),
        charge_id=ref(obj.get("charge")) or "",
        amount=_int(obj.get("amount")),
        currency=_cur(obj.get("currency")),
        status=_DISPUTE_STATUS.get(_s(obj.get("status")), DisputeStatus.NEEDS_RESPONSE),
        reason=_s(obj.get("reason")),
        evidence_due_by=ts(evidence.get("due_by")),
    )
