"""The reference gateway's "vendor": a tiny payment service held in process memory.

It stands in for the servers a real connector talks to over HTTP. It keeps objects per
account in listing order (``STORE``), answers listings, refunds, authorisations, captures and
voids, replays results for a repeated idempotency key, and fails the way a remote API fails
when told to (``fail_next``: a timeout, a 429, a 503), raising ``ServiceError`` with an HTTP
status and an error code, as a vendor answers. ``client.py`` turns those into billingdesk's
errors, exactly as a real connector's client translates its SDK's exceptions.

State is per process and per account id; ``reset`` forgets everything (tests).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from billingdesk.gateways import interface as gw

# account id -> kind -> objects, in listing order.
STORE: dict[str, dict[gw.ObjectKind, list[gw.GatewayObject]]] = {}
# Card last 4 digits the service declines, like a gateway's test card numbers.
DECLINING_LAST4 = "0002"
_ids = itertools.count(1)


class ServiceError(Exception):
    """What the service answers instead of a result (an HTTP status and a code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _AccountState:
    api_key: str | None = None  # None: any key is accepted
    faults: list[str] = field(default_factory=list)  # "timeout" | "rate_limit" | "unavailable"
    # idempotency key -> (fingerprint of the request, objects or the error it produced)
    replies: dict[str, tuple[str, list[gw.GatewayObject] | ServiceError]] = field(
        default_factory=dict
    )


_STATE: dict[str, _AccountState] = {}


def reset() -> None:
    STORE.clear()
    _STATE.clear()


def _state(account_id: str) -> _AccountState:
    return _STATE.setdefault(account_id, _AccountState())


def require_api_key(account_id: str, key: str) -> None:
    """Make the service accept only ``key`` for this account (tests of bad credentials)."""
    _state(account_id).api_key = key


def fail_next(account_id: str, fault: str, times: int = 1) -> None:
    """Answer the next ``times`` requests with ``fault``: timeout, rate_limit or unavailable."""
    if fault not in {"timeout", "rate_limit", "unavailable"}:
        raise ValueError(f"unknown fault {fault!r}")
    _state(account_id).faults.extend([fault] * times)


def objects(account_id: str, kind: gw.ObjectKind) -> list[gw.GatewayObject]:
    return STORE.setdefault(account_id, {}).setdefault(kind, [])


def put(account_id: str, obj: gw.GatewayObject) -> gw.GatewayObject:
    """Add ``obj``, or replace the object with its id in place (its listing position kept)."""
    items = objects(account_id, obj.kind)
    for i, existing in enumerate(items):
        if existing.id == obj.id:
            items[i] = obj
            return obj
    items.append(obj)
    return obj


def get(account_id: str, kind: gw.ObjectKind, object_id: str) -> gw.GatewayObject:
    for obj in objects(account_id, kind):
        if obj.id == object_id:
            return obj
    raise ServiceError(404, "resource_missing", f"No such {kind.value}: {object_id!r}")


# --- requests ---------------------------------------------------------------------------
def request(account_id: str, api_key: str) -> None:
    """What every request goes through first: injected faults, then authentication."""
    state = _state(account_id)
    if state.faults:
        fault = state.faults.pop(0)
        if fault == "timeout":
            raise TimeoutError("the reference service did not answer in time")
        if fault == "rate_limit":
            raise ServiceError(429, "rate_limited", "Too many requests")
        raise ServiceError(503, "unavailable", "Service unavailable")
    if state.api_key is not None and api_key != state.api_key:
        raise ServiceError(401, "invalid_api_key", "Invalid API key provided")


def list_objects(
    account_id: str, kind: gw.ObjectKind, *, offset: int, limit: int
) -> tuple[list[gw.GatewayObject], bool]:
    items = objects(account_id, kind)
    return list(items[offset : offset + limit]), offset + limit < len(items)


def idempotent(
    account_id: str, key: str, operation: str, params: dict[str, Any], act: Any
) -> list[gw.GatewayObject]:
    """Run ``act()`` once per key; a retry with the same key gets the same answer."""
    if not key:
        raise ServiceError(400, "idempotency_key_missing", "An idempotency key is required.")
    fingerprint = hashlib.sha256(
        json.dumps([operation, params], sort_keys=True, default=str).encode()
    ).hexdigest()
    replies = _state(account_id).replies
    if key in replies:
        seen, answer = replies[key]
        if seen != fingerprint:
            raise ServiceError(
                400, "idempotency_conflict", "This key was used for a different request."
            )
        if isinstance(answer, ServiceError):
            raise answer
        return answer
    try:
        result: list[gw.GatewayObject] = act()
    except ServiceError as exc:
        if exc.status < 500:  # a refusal is the answer for this key, as at Stripe
            replies[key] = (fingerprint, exc)
        raise
    replies[key] = (fingerprint, result)
    return result


def refund(
    account_id: str, *, charge_id: str, amount: int | None, reason: str
) -> list[gw.GatewayObject]:
    charge = get(account_id, gw.ObjectKind.CHARGE, charge_id)
    assert isinstance(charge, gw.GwCharge)
    if charge.status not in (gw.ChargeStatus.CAPTURED, gw.ChargeStatus.PARTIALLY_REFUNDED):
        raise ServiceError(400, "charge_not_refundable", "Only a captured charge is refundable.")
    remaining = charge.amount_captured - charge.amount_refunded
    amount = remaining if amount is None else amount
    if amount <= 0:
        raise ServiceError(400, "amount_invalid", "The amount must be positive.")
    if amount > remaining:
        raise ServiceError(400, "amount_too_large", f"Only {remaining} remains refundable.")
    now = timezone.now()
    refunded = charge.amount_refunded + amount
    status = (
        gw.ChargeStatus.REFUNDED
        if refunded == charge.amount_captured
        else gw.ChargeStatus.PARTIALLY_REFUNDED
    )
    new = gw.GwRefund(
        id=f"re_ref{next(_ids)}",
        updated=now,
        created=now,
        charge_id=charge_id,
        amount=amount,
        currency=charge.currency,
        status=gw.RefundStatus.SUCCEEDED,
        reason=reason,
    )
    changed = replace(charge, amount_refunded=refunded, status=status, updated=now)
    return [put(account_id, changed), put(account_id, new)]


def authorize(
    account_id: str,
    *,
    customer_id: str,
    amount: int,
    currency: str,
    description: str,
    payment_method_id: str | None,
) -> list[gw.GatewayObject]:
    get(account_id, gw.ObjectKind.CUSTOMER, customer_id)
    if amount <= 0:
        raise ServiceError(400, "amount_invalid", "The amount must be positive.")
    cards = [
        pm
        for pm in objects(account_id, gw.ObjectKind.PAYMENT_METHOD)
        if isinstance(pm, gw.GwPaymentMethod)
        and pm.customer_id == customer_id
        and (payment_method_id is None or pm.id == payment_method_id)
    ]
    if not cards:
        raise ServiceError(400, "no_payment_method", "The customer has no card on file.")
    if cards[0].last4 == DECLINING_LAST4:
        raise ServiceError(402, "card_declined", "Your card was declined.")
    now = timezone.now()
    charge = gw.GwCharge(
        id=f"ch_ref{next(_ids)}",
        updated=now,
        created=now,
        customer_id=customer_id,
        amount=amount,
        currency=currency.upper(),
        status=gw.ChargeStatus.AUTHORIZED,
        description=description,
        payment_method_id=cards[0].id,
        card_brand=cards[0].brand,
        card_last4=cards[0].last4,
    )
    return [put(account_id, charge)]


def capture(account_id: str, *, charge_id: str, amount: int | None) -> list[gw.GatewayObject]:
    charge = _authorized(account_id, charge_id)
    amount = charge.amount if amount is None else amount
    if amount <= 0:
        raise ServiceError(400, "amount_invalid", "The amount must be positive.")
    if amount > charge.amount:
        raise ServiceError(400, "amount_too_large", f"At most {charge.amount} was authorised.")
    changed = replace(
        charge, status=gw.ChargeStatus.CAPTURED, amount_captured=amount, updated=timezone.now()
    )
    return [put(account_id, changed)]


def void(account_id: str, *, charge_id: str) -> list[gw.GatewayObject]:
    charge = _authorized(account_id, charge_id)
    return [put(account_id, replace(charge, status=gw.ChargeStatus.VOIDED, updated=timezone.now()))]


def _authorized(account_id: str, charge_id: str) -> gw.GwCharge:
    charge = get(account_id, gw.ObjectKind.CHARGE, charge_id)
    assert isinstance(charge, gw.GwCharge)
    if charge.status != gw.ChargeStatus.AUTHORIZED:
        raise ServiceError(400, "charge_not_authorized", "This charge is not an authorisation.")
    return charge
