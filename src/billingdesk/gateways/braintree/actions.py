"""Agent actions on a Braintree account (the connector's write side), through the SDK.

Idempotency: the transaction calls (sale, refund, void, submit for settlement) carry the
caller's key as Braintree's ``api_request_key`` (SDK 4.48), so a retried request is answered
with the first one's result instead of acting twice; a subscription is created with an id
derived from the key (Braintree refuses a second one with that id: the first is returned);
cancelling and applying a discount look at the current state first. Reads are retried with
backoff on operational errors; writes are not retried here (the caller's retry brings the same
key).

What Braintree cannot do is refused before any call, in words the agent can act on: a refund
of a transaction that has not settled yet (Braintree refunds only ``settled`` or
``settling`` ones: void it instead), a cancellation at period end (Braintree cancels at once),
invoices and tax ids (Braintree has neither), a hosted payment page (it has none).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import cached_property
from typing import Any

import braintree
from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    BillingdeskError,
    CapabilityMissing,
    InvalidRequest,
    NotAllowed,
)
from billingdesk.core.money import Money
from billingdesk.gateways.braintree import client, mapping
from billingdesk.gateways.braintree.client import call, refusal
from billingdesk.gateways.interface import (
    ActionResult,
    ChargeStatus,
    Connector,
    GatewayObject,
    GwCharge,
)

# Braintree ids: letters, digits, _ and -, at most 36 characters.
_ID_LENGTH = 36


def _key(idempotency_key: str) -> str:
    """The caller's key as an ``api_request_key`` (Braintree keeps them short)."""
    if len(idempotency_key) <= 64 and idempotency_key.isascii():
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


class BraintreeActions(Connector):
    """The SDK gateway object of one account, and the actions run through it."""

    # How often a read is retried on an operational error (429, 5xx, timeout).
    read_retries = 2
    timeout: tuple[float, float] = client.DEFAULT_TIMEOUT
    _plan_frequencies: dict[str, int] | None = None

    @cached_property
    def gateway(self) -> braintree.BraintreeGateway:
        return client.make_gateway(self.account.credentials or {}, timeout=self.timeout)

    @staticmethod
    def _now() -> datetime:
        return timezone.now().replace(microsecond=0)

    def check_credentials(self) -> None:
        """GET /merchants/<id>/plans: cheap, needs valid keys and merchant id."""
        call(self.gateway.plan.all)

    # --- helpers ---------------------------------------------------------------------------
    def _result(self, objects: Iterable[GatewayObject]) -> ActionResult:
        return ActionResult(objects=list(objects))

    def _find(self, transaction_id: str) -> Any:
        return call(self.gateway.transaction.find, transaction_id, retries=self.read_retries)

    def _bundle(self, txn: Any) -> list[GatewayObject]:
        return mapping.transaction_bundle(txn, self._now(), self._refunds(txn))

    def _refunds(self, txn: Any) -> dict[str, Any]:
        ids = [str(i) for i in (getattr(txn, "refund_ids", None) or [])]
        if not ids:
            return {}
        found = call(
            self.gateway.transaction.search,
            braintree.TransactionSearch.ids.in_list(ids),
            retries=self.read_retries,
        )
        return {str(t.id): t for t in found.items}

    def _charge(self, transaction_id: str) -> tuple[Any, GwCharge, list[GatewayObject]]:
        txn = self._find(transaction_id)
        bundle = self._bundle(txn)
        charge = next(o for o in bundle if isinstance(o, GwCharge) and o.id == str(txn.id))
        return txn, charge, bundle

    def _with_state_on_refusal(self, transaction_id: str, error: BillingdeskError) -> None:
        """Attach the transaction's live state to a refusal, so the mirror catches up."""
        try:
            _, _, bundle = self._charge(transaction_id)
        except BillingdeskError:
            return
        error.refreshed.extend(bundle)

    # --- refunds, capture, void --------------------------------------------------------------
    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        txn, charge, _ = self._charge(charge_id)
        if str(getattr(txn, "type", "")) == "credit":
            raise NotAllowed("This is a refund (a credit), not a payment: it cannot be refunded.")
        status = str(txn.status)
        if status in mapping.VOIDABLE:
            raise NotAllowed(
                "This Braintree transaction has not settled yet "
                f"({status.replace('_', ' ')}): Braintree refunds only settled payments. "
                "Void it instead: the whole amount is released and nothing is charged."
            )
        if status not in mapping.REFUNDABLE:
            raise NotAllowed(
                f"This payment is {status.replace('_', ' ')}: Braintree cannot refund it."
            )
        if amount is not None and amount <= 0:
            raise InvalidRequest("A refund amount must be more than zero.")
        remaining = charge.amount_captured - charge.amount_refunded
        key = _key(idempotency_key)
        if remaining <= 0 or (amount is not None and amount > remaining):
            # Unless this very request already succeeded (a retry after a lost answer).
            replay = self._replayed_refund(charge_id, amount, key)
            if replay is not None:
                return replay
            if remaining <= 0:
                raise AmountTooLarge("This payment has already been refunded in full.")
            raise AmountTooLarge(
                f"Cannot refund {Money(amount or 0, charge.currency)}: only "
                f"{Money(remaining, charge.currency)} of this payment is left to refund."
            )
        options: dict[str, Any] = {
            "amount": mapping.decimal_text(
                remaining if amount is None else amount, charge.currency
            ),
            "api_request_key": key,
        }
        result = call(self.gateway.transaction.refund, charge_id, options)
        if not result.is_success:
            error = refusal(result, "refund")
            self._with_state_on_refusal(charge_id, error)
            raise error
        _, _, bundle = self._charge(charge_id)
        return self._result(bundle)

    def _replayed_refund(self, charge_id: str, amount: int | None, key: str) -> ActionResult | None:
        """Send the refund again with its key: Braintree answers an already-used key with
        the first result, so a retry returns the refund the first try made."""
        options: dict[str, Any] = {"api_request_key": key}
        if amount is not None:
            txn = self._find(charge_id)
            currency = str(getattr(txn, "currency_iso_code", "")).upper()
            options["amount"] = mapping.decimal_text(amount, currency)
        result = call(self.gateway.transaction.refund, charge_id, options)
        if not result.is_success:
            return None
        _, _, bundle = self._charge(charge_id)
        return self._result(bundle)

    def charge_authorize(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        payment_method_id: str | None = None,
    ) -> ActionResult:
        """A sale not submitted for settlement: an authorisation to capture or void."""
        if amount <= 0:
            raise InvalidRequest("An authorisation amount must be more than zero.")
        params: dict[str, Any] = {
            "amount": mapping.decimal_text(amount, currency.upper()),
            "options": {"submit_for_settlement": False},
            "api_request_key": _key(idempotency_key),
        }
        if payment_method_id:
            params["payment_method_token"] = payment_method_id
        else:
            params["customer_id"] = customer_id  # charges the customer's default method
        result = call(self.gateway.transaction.sale, params)
        if not result.is_success:
            raise refusal(result, "authorise the payment")
        return self._result(self._bundle(result.transaction))

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        """Submit an authorisation for settlement (a smaller amount: a partial capture)."""
        txn, charge, bundle = self._charge(charge_id)
        status = str(txn.status)
        if status != "authorized":
            if charge.status in (
                ChargeStatus.CAPTURED,
                ChargeStatus.PARTIALLY_REFUNDED,
                ChargeStatus.REFUNDED,
            ):
                return self._result(bundle)  # captured already, perhaps by an earlier try
            raise NotAllowed(
                f"A {status.replace('_', ' ')} transaction cannot be submitted for settlement."
            )
        if amount is not None and amount <= 0:
            raise InvalidRequest("A capture amount must be more than zero.")
        if amount is not None and amount > charge.amount:
            raise AmountTooLarge(
                f"Cannot capture {Money(amount, charge.currency)}: only "
                f"{Money(charge.amount, charge.currency)} was authorised."
            )
        result = call(
            self.gateway.transaction.submit_for_settlement,
            charge_id,
            mapping.decimal_text(amount, charge.currency) if amount is not None else None,
            {"api_request_key": _key(idempotency_key)},
        )
        if not result.is_success:
            error = refusal(result, "capture")
            self._with_state_on_refusal(charge_id, error)
            raise error
        return self._result(self._bundle(result.transaction))

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        txn, _, bundle = self._charge(charge_id)
        status = str(txn.status)
        if status == "voided":
            return self._result(bundle)
        if status not in mapping.VOIDABLE:
            raise NotAllowed(
                f"Braintree voids only transactions that have not settled; this one is "
                f"{status.replace('_', ' ')}"
                + (": refund it instead." if status in mapping.REFUNDABLE else ".")
            )
        result = call(
            self.gateway.transaction.void, charge_id, {"api_request_key": _key(idempotency_key)}
        )
        if not result.is_success:
            error = refusal(result, "void")
            self._with_state_on_refusal(charge_id, error)
            raise error
        return self._result(self._bundle(result.transaction))

    # --- subscriptions -------------------------------------------------------------------------
    def _subscription(self, subscription_id: str) -> Any:
        return call(self.gateway.subscription.find, subscription_id, retries=self.read_retries)

    def _subscription_bundle(self, sub: Any, customer_id: str | None = None) -> list[GatewayObject]:
        if customer_id is None:
            customer_id = self._customer_of(sub)
        currency = self.account.default_currency or ""
        return mapping.subscription_bundle(sub, customer_id, self._now(), currency, self._plans())

    def _plans(self) -> dict[str, int]:
        """Each plan's billing frequency in months (one call, kept for this connector)."""
        if self._plan_frequencies is None:
            plans = call(self.gateway.plan.all, retries=self.read_retries)
            self._plan_frequencies = {
                str(p.id): int(getattr(p, "billing_frequency", 1) or 1) for p in plans
            }
        return self._plan_frequencies

    def _customer_of(self, sub: Any) -> str | None:
        """A subscription names its payment method, not its customer: read the method."""
        token = getattr(sub, "payment_method_token", None)
        if not token:
            return None
        method = call(self.gateway.payment_method.find, str(token), retries=self.read_retries)
        return str(getattr(method, "customer_id", "") or "") or None

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        if at_period_end:
            raise CapabilityMissing(
                "Braintree cannot cancel at the end of the period: it cancels a subscription "
                "at once, and that cannot be undone."
            )
        sub = self._subscription(subscription_id)
        if str(sub.status) in ("Canceled", "Expired"):
            return self._result(self._subscription_bundle(sub))
        result = call(self.gateway.subscription.cancel, subscription_id)
        if not result.is_success:
            if client.SUBSCRIPTION_ALREADY_CANCELED in client.codes(result):
                return self._result(self._subscription_bundle(self._subscription(subscription_id)))
            raise refusal(result, "cancel the subscription")
        return self._result(self._subscription_bundle(result.subscription))

    def subscription_create(
        self,
        *,
        customer_id: str,
        plan: str,
        idempotency_key: str,
        quantity: int = 1,
        coupon_id: str | None = None,
        trial_days: int | None = None,
    ) -> ActionResult:
        """A subscription on the customer's default vaulted payment method."""
        if quantity != 1:
            raise InvalidRequest("Braintree subscriptions have no quantity: use add-ons.")
        customer = call(self.gateway.customer.find, customer_id, retries=self.read_retries)
        methods = list(getattr(customer, "payment_methods", []) or [])
        method = next((m for m in methods if getattr(m, "default", False)), None) or (
            methods[0] if methods else None
        )
        if method is None:
            raise NotAllowed("This customer has no saved payment method to bill.")
        sub_id = "bd" + hashlib.sha256(idempotency_key.encode()).hexdigest()[: _ID_LENGTH - 2]
        params: dict[str, Any] = {
            "id": sub_id,
            "plan_id": plan,
            "payment_method_token": str(method.token),
        }
        if coupon_id:
            params["discounts"] = {"add": [{"inherited_from_id": coupon_id}]}
        if trial_days:
            params.update(trial_period=True, trial_duration=trial_days, trial_duration_unit="day")
        result = call(self.gateway.subscription.create, params)
        if not result.is_success:
            if client.SUBSCRIPTION_ID_TAKEN in client.codes(result):
                # An earlier try of this request made it.
                return self._result(
                    self._subscription_bundle(self._subscription(sub_id), customer_id)
                )
            raise refusal(result, "create the subscription")
        return self._result(self._subscription_bundle(result.subscription, customer_id))

    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        """Add a Control Panel discount to a subscription (Braintree has no customer-level
        coupons: a customer's goes on each of their active subscriptions)."""
        if subscription_id:
            targets = [subscription_id]
        elif customer_id:
            customer = call(self.gateway.customer.find, customer_id, retries=self.read_retries)
            targets = [
                str(sub.id)
                for method in getattr(customer, "payment_methods", []) or []
                for sub in getattr(method, "subscriptions", []) or []
                if str(sub.status) in ("Active", "Past Due", "Pending")
            ]
            if not targets:
                raise NotAllowed(
                    "This customer has no active subscription: Braintree applies discounts "
                    "to subscriptions only."
                )
        else:
            raise InvalidRequest("Say which customer or subscription the discount is for.")
        objects: list[GatewayObject] = []
        for sub_id in targets:
            sub = self._subscription(sub_id)
            if not any(str(d.id) == coupon_id for d in getattr(sub, "discounts", []) or []):
                result = call(
                    self.gateway.subscription.update,
                    sub_id,
                    {"discounts": {"add": [{"inherited_from_id": coupon_id}]}},
                )
                if not result.is_success:
                    if client.DUPLICATE_DISCOUNT not in client.codes(result):
                        raise refusal(result, "apply the discount")
                    result.subscription = self._subscription(sub_id)
                sub = result.subscription
            objects.extend(self._subscription_bundle(sub, customer_id))
        return self._result(objects)
