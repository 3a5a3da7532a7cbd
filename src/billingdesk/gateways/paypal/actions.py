"""Agent actions on a PayPal account (the connector's write side), through ``PayPalApi``.

Every write carries the caller's idempotency key as ``PayPal-Request-Id``: PayPal answers a
repeated id with the first answer, so a retried refund or capture never acts twice (and a
write is retried on operational errors only because of it). After a write the order the
payment belongs to is read back (``GET /v2/checkout/orders/{id}``): it holds the payer (the
customer), every capture with all its refunds, and the authorisations, so what the mirror
receives is exact.

What PayPal cannot do is refused before any call, in words the agent can act on: a refund of
an authorisation (void it), a cancellation at period end (PayPal cancels at once), coupons,
trials outside the plan. Creating a subscription or a payment request cannot charge anyone:
PayPal answers with an ``approve`` link the customer must follow (``ActionResult.url``).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    CapabilityMissing,
    CardDeclined,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from billingdesk.core.money import Money
from billingdesk.gateways import interface as gw
from billingdesk.gateways.paypal import client, mapping
from billingdesk.gateways.paypal.client import PayPalApi

JSON = dict[str, Any]
_REQUEST_ID_LENGTH = 100  # PayPal keeps request ids up to 108 characters
CANCEL_REASON = "Cancelled by the merchant's support team."
SUSPEND_REASON = "Paused by the merchant's support team."
RESUME_REASON = "Resumed by the merchant's support team."


def request_id(idempotency_key: str, action: str) -> str:
    """The caller's key as a ``PayPal-Request-Id`` (scoped to the action, kept short)."""
    key = f"bd-{action}-{idempotency_key}"
    if len(key) <= _REQUEST_ID_LENGTH and key.isascii() and key.isprintable():
        return key
    return f"bd-{action}-" + hashlib.sha256(idempotency_key.encode()).hexdigest()


class PayPalActions(gw.Connector):
    """The REST client of one account, and the actions run through it."""

    timeout: tuple[float, float] = client.DEFAULT_TIMEOUT
    max_retries: int = client.DEFAULT_MAX_RETRIES
    retry_base_delay: float = client.DEFAULT_RETRY_BASE_DELAY
    subscription_approval_note: ClassVar[str] = (
        "PayPal does not start it on its own: the customer must approve it through the link "
        "PayPal returns, which you then send them. Nothing is billed until they do."
    )

    @cached_property
    def api(self) -> PayPalApi:
        credentials = self.account.credentials or {}
        return PayPalApi(
            client_id=str(credentials.get("client_id") or ""),
            client_secret=str(credentials.get("client_secret") or ""),
            base=client.base_url(credentials),
            cache_key=str(self.account.pk),
            timeout=self.timeout,
            max_retries=self.max_retries,
            retry_base_delay=self.retry_base_delay,
        )

    @property
    def webhook_id(self) -> str:
        return str((self.account.credentials or {}).get("webhook_id") or "")

    @staticmethod
    def _now() -> datetime:
        return timezone.now().replace(microsecond=0)

    def check_credentials(self) -> None:
        """A fresh token (the client id and secret), then the webhook id: both must be this
        app's (``GET /v1/notifications/webhooks/{id}``)."""
        self.api.token(fresh=True)
        if not self.webhook_id:
            raise InvalidRequest("Enter the webhook id from the PayPal app's Webhooks list.")
        try:
            self.api.get(f"/v1/notifications/webhooks/{self.webhook_id}", what="read the webhook")
        except NotFound:
            raise InvalidRequest(
                f"This PayPal app has no webhook with id {self.webhook_id}: copy the id from "
                "the app's Webhooks list (developer.paypal.com → Apps & Credentials)."
            ) from None

    # --- reads ---------------------------------------------------------------------------
    def _order(self, order_id: str) -> list[gw.GatewayObject]:
        return mapping.order_bundle(
            self.api.get(f"/v2/checkout/orders/{order_id}", what="read the order"), self._now()
        )

    def _capture_state(self, capture: JSON) -> list[gw.GatewayObject]:
        """The capture's order, read back (the payer, and every refund of the capture)."""
        order_id = mapping.related(capture, "order_id")
        return self._order(order_id) if order_id else []

    def _find_capture(self, charge_id: str) -> JSON:
        try:
            return self.api.get(f"/v2/payments/captures/{charge_id}", what="read the payment")
        except NotFound:
            try:
                auth = self.api.get(
                    f"/v2/payments/authorizations/{charge_id}", what="read the payment"
                )
            except NotFound:
                raise NotFound(f"PayPal has no payment {charge_id}.") from None
            if str(auth.get("status")) in mapping.CAPTURED_AUTH:
                raise NotAllowed(
                    "This authorisation has been captured: refund its capture (the payment "
                    "it became), not the authorisation."
                ) from None
            raise NotAllowed(
                "This PayPal payment is an authorisation that has not been captured: nothing "
                "was charged, so there is nothing to refund. Void it instead to release the hold."
            ) from None

    @staticmethod
    def _charge(objects: list[gw.GatewayObject], charge_id: str) -> gw.GwCharge | None:
        return next((o for o in objects if isinstance(o, gw.GwCharge) and o.id == charge_id), None)

    # --- refunds ---------------------------------------------------------------------------
    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> gw.ActionResult:
        if amount is not None and amount <= 0:
            raise InvalidRequest("A refund amount must be more than zero.")
        capture = self._find_capture(charge_id)
        _, currency = mapping.minor(capture.get("amount"))
        if str(capture.get("status")) == "PENDING":
            raise NotAllowed(
                "This PayPal payment is still pending at PayPal (not completed yet, e.g. an "
                "eCheck or a payment under review): it can be refunded once PayPal completes it."
            )
        body: JSON = {}
        if amount is not None:
            body["amount"] = mapping.money(amount, currency)
        if reason:
            body["note_to_payer"] = reason[:255]
        try:
            answer = self.api.post(
                f"/v2/payments/captures/{charge_id}/refund",
                body,
                request_id=request_id(idempotency_key, "refund"),
                what="refund this payment",
            )
        except AmountTooLarge as refused:
            error = refused
            state = self._capture_state(capture)
            charge = self._charge(state, charge_id)
            if charge is not None and amount is not None:
                left = charge.amount_captured - charge.amount_refunded
                error = AmountTooLarge(
                    "This payment has already been refunded in full."
                    if left <= 0
                    else f"Cannot refund {Money(amount, currency)}: only {Money(left, currency)} "
                    "of this PayPal payment is left to refund."
                )
            error.refreshed.extend(state)
            raise error from None
        objects = self._capture_state(capture)
        if not any(o.id == answer.get("id") for o in objects):
            objects.append(mapping.refund(answer, self._now(), charge_id))
        return gw.ActionResult(objects=objects, request_id=str(answer.get("id") or ""))

    # --- authorisations ------------------------------------------------------------------------
    def charge_authorize(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        payment_method_id: str | None = None,
    ) -> gw.ActionResult:
        """An order with ``intent=AUTHORIZE`` on the customer's vaulted PayPal account (the
        Vault's payment token): PayPal authorises it at once, no approval needed."""
        if amount <= 0:
            raise InvalidRequest("An authorisation amount must be more than zero.")
        vault_id = payment_method_id or self._vault_token(customer_id)
        unit: JSON = {"amount": mapping.money(amount, currency), "custom_id": customer_id[:127]}
        if description:
            unit["description"] = description[:127]
        order = self.api.post(
            "/v2/checkout/orders",
            {
                "intent": "AUTHORIZE",
                "purchase_units": [unit],
                "payment_source": {"paypal": {"vault_id": vault_id}},
            },
            request_id=request_id(idempotency_key, "authorize"),
            what="authorise the payment",
        )
        objects = mapping.order_bundle(order, self._now())
        denied = next(
            (
                o
                for o in objects
                if isinstance(o, gw.GwCharge) and o.status is gw.ChargeStatus.FAILED
            ),
            None,
        )
        if denied is not None:
            error = CardDeclined("PayPal declined the authorisation.", decline_code="denied")
            error.refreshed.extend(objects)
            raise error
        return gw.ActionResult(objects=objects, request_id=str(order.get("id") or ""))

    def _vault_token(self, customer_id: str) -> str:
        answer = self.api.get(
            "/v3/vault/payment-tokens", {"customer_id": customer_id}, what="read saved methods"
        )
        tokens = answer.get("payment_tokens") or []
        if not tokens:
            raise NotAllowed(
                "This PayPal customer has no saved PayPal account (vault) to charge: send a "
                "payment request instead, which they approve themselves."
            )
        return str(tokens[0]["id"])

    def _authorization(self, charge_id: str) -> JSON:
        try:
            return self.api.get(
                f"/v2/payments/authorizations/{charge_id}", what="read the authorisation"
            )
        except NotFound:
            raise NotAllowed(
                "This PayPal payment is not an authorisation (it is already captured, or it "
                "does not exist): there is nothing to capture or void."
            ) from None

    def _after_authorization(self, auth: JSON) -> list[gw.GatewayObject]:
        order_id = mapping.related(auth, "order_id") or mapping.link(auth, "up").rsplit("/", 1)[-1]
        return self._order(order_id) if order_id else []

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> gw.ActionResult:
        """Capture an authorisation (a smaller amount: a partial, final capture)."""
        auth = self._authorization(charge_id)
        authorised, currency = mapping.minor(auth.get("amount"))
        if amount is not None and amount <= 0:
            raise InvalidRequest("A capture amount must be more than zero.")
        if amount is not None and amount > authorised:
            raise AmountTooLarge(
                f"Cannot capture {Money(amount, currency)}: only "
                f"{Money(authorised, currency)} was authorised."
            )
        body: JSON = {"final_capture": True}
        if amount is not None:
            body["amount"] = mapping.money(amount, currency)
        try:
            captured = self.api.post(
                f"/v2/payments/authorizations/{charge_id}/capture",
                body,
                request_id=request_id(idempotency_key, "capture"),
                what="capture this authorisation",
            )
        except NotAllowed as exc:
            exc.refreshed.extend(self._after_authorization(auth))
            raise
        objects = self._after_authorization(auth)
        return gw.ActionResult(objects=objects, request_id=str(captured.get("id") or ""))

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> gw.ActionResult:
        auth = self._authorization(charge_id)
        if str(auth.get("status")) != "VOIDED":
            try:
                self.api.post(
                    f"/v2/payments/authorizations/{charge_id}/void",
                    None,
                    request_id=request_id(idempotency_key, "void"),
                    what="void this authorisation",
                )
            except NotAllowed as exc:
                if "already been voided" not in exc.message:
                    exc.refreshed.extend(self._after_authorization(auth))
                    raise
        return gw.ActionResult(objects=self._after_authorization(auth))

    # --- subscriptions -----------------------------------------------------------------------
    _plans: dict[str, JSON | None]

    def _plan(self, plan_id: str) -> JSON | None:
        plans: dict[str, JSON | None] = self.__dict__.setdefault("_plans", {})
        if plan_id and plan_id not in plans:
            try:
                plans[plan_id] = self.api.get(f"/v1/billing/plans/{plan_id}", what="read the plan")
            except NotFound:
                plans[plan_id] = None
        return plans.get(plan_id)

    def subscription_objects(self, sub: JSON) -> list[gw.GatewayObject]:
        return mapping.subscription(sub, self._now(), self._plan(str(sub.get("plan_id") or "")))

    def _subscription(self, subscription_id: str) -> JSON:
        return self.api.get(
            f"/v1/billing/subscriptions/{subscription_id}", what="read the subscription"
        )

    def _subscription_change(
        self, subscription_id: str, action: str, reason: str, done: tuple[str, ...], key: str
    ) -> gw.ActionResult:
        sub = self._subscription(subscription_id)
        if str(sub.get("status")) not in done:
            if action == "suspend" and str(sub.get("status")) != "ACTIVE":
                raise NotAllowed("Only an active PayPal subscription can be paused.")
            if action == "activate" and str(sub.get("status")) != "SUSPENDED":
                raise NotAllowed("Only a paused (suspended) PayPal subscription can be resumed.")
            self.api.post(
                f"/v1/billing/subscriptions/{subscription_id}/{action}",
                {"reason": reason},
                request_id=request_id(key, action),
                what=f"{action} the subscription",
                representation=False,
            )
            sub = self._subscription(subscription_id)
        return gw.ActionResult(objects=self.subscription_objects(sub))

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> gw.ActionResult:
        if at_period_end:
            raise CapabilityMissing(
                "PayPal cannot cancel at the end of the period: it cancels a subscription at "
                "once (no further payments), and that cannot be undone."
            )
        return self._subscription_change(
            subscription_id, "cancel", CANCEL_REASON, ("CANCELLED", "EXPIRED"), idempotency_key
        )

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> gw.ActionResult:
        """Pause billing (``/suspend``); ``subscription_resume`` activates it again."""
        return self._subscription_change(
            subscription_id, "suspend", SUSPEND_REASON, ("SUSPENDED",), idempotency_key
        )

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> gw.ActionResult:
        """Bill a suspended subscription again (``/activate``)."""
        return self._subscription_change(
            subscription_id, "activate", RESUME_REASON, ("ACTIVE",), idempotency_key
        )

    def subscription_create(
        self,
        *,
        customer_id: str,
        plan: str,
        idempotency_key: str,
        quantity: int = 1,
        coupon_id: str | None = None,
        trial_days: int | None = None,
    ) -> gw.ActionResult:
        """A subscription awaiting the customer's approval: ``url`` is PayPal's ``approve``
        link to send them; it starts (and bills) only once they approve it."""
        if coupon_id:
            raise CapabilityMissing("PayPal subscriptions have no coupons.")
        if trial_days:
            raise InvalidRequest(
                "PayPal trials are part of the plan: choose a plan that has the trial."
            )
        if quantity < 1:
            raise InvalidRequest("The quantity must be at least 1.")
        sub = self.api.post(
            "/v1/billing/subscriptions",
            {"plan_id": plan, "quantity": str(quantity), "custom_id": customer_id[:127]},
            request_id=request_id(idempotency_key, "subscribe"),
            what="create the subscription",
        )
        approve = mapping.link(sub, "approve")
        objects = [
            replace(o, customer_id=customer_id)
            if isinstance(o, gw.GwSubscription) and not o.customer_id
            else o
            for o in self.subscription_objects(sub)
        ]
        return gw.ActionResult(objects=objects, request_id=str(sub.get("id") or ""), url=approve)

    # --- payment requests ------------------------------------------------------------------
    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> gw.ActionResult:
        """An order to pay (``intent=CAPTURE``): ``url`` is its ``approve`` link."""
        if amount <= 0:
            raise InvalidRequest("A payment request amount must be more than zero.")
        unit: JSON = {"amount": mapping.money(amount, currency), "custom_id": customer_id[:127]}
        if description:
            unit["description"] = description[:127]
        order = self.api.post(
            "/v2/checkout/orders",
            {"intent": "CAPTURE", "purchase_units": [unit]},
            request_id=request_id(idempotency_key, "request"),
            what="create the payment request",
        )
        approve = mapping.link(order, "approve") or mapping.link(order, "payer-action")
        if not approve:
            raise InvalidRequest("PayPal created the order without an approval link.")
        return gw.ActionResult(objects=[], request_id=str(order.get("id") or ""), url=approve)

    # --- invoices ----------------------------------------------------------------------------
    def _invoice(self, invoice_id: str) -> JSON:
        try:
            return self.api.get(f"/v2/invoicing/invoices/{invoice_id}", what="read the invoice")
        except NotFound:
            raise NotFound(f"PayPal has no invoice {invoice_id}.") from None

    @staticmethod
    def _unsendable(inv: JSON) -> NotAllowed | None:
        status = str(inv.get("status") or "")
        if status in mapping.PAID_INVOICE:
            return NotAllowed(
                "This PayPal invoice has already been paid: there is nothing left to ask the "
                "customer for, so it is not sent again."
            )
        if status == "CANCELLED":
            return NotAllowed(
                "This PayPal invoice was cancelled: a cancelled invoice cannot be sent. "
                "Create a new invoice at PayPal if the customer still owes it."
            )
        return None

    def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> gw.ActionResult:
        """``POST /v2/invoicing/invoices/{id}/send`` to the recipient (no copy to the
        merchant): a draft becomes sent (or scheduled, if dated later); a sent one is sent
        again (PayPal's reminder of the same invoice). A paid or cancelled one is refused
        in words, before the call or from PayPal's 422."""
        inv = self._invoice(invoice_id)
        refused = self._unsendable(inv)
        if refused is not None:
            refused.refreshed.extend(mapping.invoice(inv, self._now()))
            raise refused
        try:
            self.api.post(
                f"/v2/invoicing/invoices/{invoice_id}/send",
                {"send_to_invoicer": False, "send_to_recipient": True},
                request_id=request_id(idempotency_key, "invoice-send"),
                what="send this invoice",
                representation=False,
            )
        except InvalidRequest as exc:
            # A 422: the invoice changed at PayPal since it was read (paid, cancelled).
            inv = self._invoice(invoice_id)
            refused = self._unsendable(inv)
            error = refused or exc
            error.refreshed.extend(mapping.invoice(inv, self._now()))
            raise error from None
        objects = mapping.invoice(self._invoice(invoice_id), self._now())
        return gw.ActionResult(objects=objects, request_id=invoice_id)
