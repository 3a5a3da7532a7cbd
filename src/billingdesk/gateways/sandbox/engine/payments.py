"""Sandbox operations on customers, cards, charges, refunds and disputes.

Objects and event names follow Stripe's (https://docs.stripe.com/api/charges,
https://docs.stripe.com/api/events/types), simplified: one charge object carries the whole
payment (Stripe splits it into PaymentIntent and Charge; the ``payment_intent`` id is kept as a
second reference agents may quote), and voiding an authorisation emits ``charge.voided``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from billingdesk.core.errors import AmountTooLarge, CardDeclined, InvalidRequest, NotAllowed
from billingdesk.gateways.sandbox.engine.base import (
    EngineBase,
    check_amount,
    check_country,
    check_currency,
    clean_text,
)
from billingdesk.gateways.sandbox.engine.cards import (
    Behavior,
    SandboxCard,
    card_for_number,
    decline,
    last4,
)
from billingdesk.gateways.sandbox.engine.ledger import JSON, aware, iso, new_id
from billingdesk.gateways.sandbox.models import SandboxObject

# How long after a charge on the "dispute" test card its dispute arrives, and how long the
# merchant then has to answer it.
_DISPUTE_DELAY = timedelta(days=3)
_EVIDENCE_WINDOW = timedelta(days=7)


class PaymentOps(EngineBase):
    # --- customers ------------------------------------------------------------------------
    def customer_create(
        self,
        *,
        email: str = "",
        name: str = "",
        phone: str = "",
        country: str = "",
        currency: str = "",
        description: str = "",
        created: datetime | None = None,
    ) -> SandboxObject:
        at = aware(created)
        email = clean_text(email, limit=320)
        if email and "@" not in email:
            raise InvalidRequest(f"{email!r} is not an email address.")
        with self._op() as ledger:
            customer = ledger.create(
                kind="customer",
                prefix="cus",
                created=at,
                data={
                    "email": email,
                    "name": clean_text(name, limit=300),
                    "phone": clean_text(phone, limit=64),
                    "address": {"country": check_country(country)},
                    "currency": check_currency(currency) if currency else "",
                    "description": clean_text(description),
                    "invoice_settings": {"default_payment_method": None},
                    "discount": None,
                    "delinquent": False,
                    "metadata": {},
                },
            )
            ledger.emit("customer.created", customer)
        return customer

    # --- cards ----------------------------------------------------------------------------
    def card_attach(
        self,
        *,
        customer_id: str,
        number: str,
        exp_month: int,
        exp_year: int,
        make_default: bool | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """Attach a test card (see ``cards.TEST_CARDS``); only brand, last 4 and expiry are kept.

        ``make_default`` None makes it the default card when the customer has none yet.
        """
        at = aware(created)
        card = card_for_number(number)
        if not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100:
            raise InvalidRequest("The expiry date is not a valid month and year.")
        if (exp_year, exp_month) < (at.year, at.month):
            raise InvalidRequest("The card has expired.")
        if card.behavior == Behavior.DECLINE:
            raise decline(card.decline_code)
        with self._op() as ledger:
            customer = ledger.get(customer_id, "customer")
            settings = customer.data["invoice_settings"]
            previous = settings["default_payment_method"]
            is_default = make_default if make_default is not None else previous is None
            method = ledger.create(
                kind="payment_method",
                prefix="pm",
                created=at,
                data={
                    "type": "card",
                    "customer": customer_id,
                    "card": {
                        "brand": card.brand,
                        "last4": last4(number),
                        "exp_month": exp_month,
                        "exp_year": exp_year,
                        "funding": card.funding,
                    },
                    "is_default": is_default,
                    "test_behavior": card.behavior.value,
                },
            )
            ledger.emit("payment_method.attached", method)
            if is_default:
                if previous:
                    old = ledger.get(previous, "payment_method")
                    old.data["is_default"] = False
                    ledger.save(old, at=at)
                    ledger.emit("payment_method.updated", old)
                settings["default_payment_method"] = method.object_id
                ledger.save(customer, at=at)
                ledger.emit("customer.updated", customer)
        return method

    # --- charges --------------------------------------------------------------------------
    def charge_create(
        self,
        *,
        customer_id: str | None,
        amount: int,
        currency: str,
        payment_method_id: str | None = None,
        card_number: str | None = None,
        capture: bool = True,
        description: str = "",
        product: str = "",
        order_id: str = "",
        created: datetime | None = None,
    ) -> SandboxObject:
        """Charge (or, with ``capture=False``, authorise) a card.

        The card is ``payment_method_id``, a one-off test ``card_number``, or the customer's
        default card. A decline is recorded as a failed charge, then raised as
        ``CardDeclined``.
        """
        with self._op():
            charge, declined = self._charge(
                customer_id=customer_id,
                amount=amount,
                currency=currency,
                payment_method_id=payment_method_id,
                card_number=card_number,
                capture=capture,
                description=description,
                product=product,
                order_id=order_id,
                invoice_id=None,
                at=aware(created),
            )
        if declined is not None:
            raise declined
        return charge

    def _charge(
        self,
        *,
        customer_id: str | None,
        amount: int,
        currency: str,
        payment_method_id: str | None,
        card_number: str | None,
        capture: bool,
        description: str,
        product: str,
        order_id: str,
        invoice_id: str | None,
        at: datetime,
    ) -> tuple[SandboxObject, CardDeclined | None]:
        """Record one charge attempt; the decline, if any, is returned for the caller to raise
        once the failed charge is stored."""
        amount = check_amount(amount)
        code = check_currency(currency)
        ledger = self.ledger
        customer = ledger.get(customer_id, "customer") if customer_id is not None else None
        details: JSON
        if card_number is not None:
            card = card_for_number(card_number)
            details = {"brand": card.brand, "last4": last4(card_number)}
            payment_method_id = None
        else:
            if payment_method_id is None and customer is not None:
                payment_method_id = customer.data["invoice_settings"]["default_payment_method"]
            if payment_method_id is None:
                raise InvalidRequest("The customer has no card on file.")
            method = ledger.get(payment_method_id, "payment_method")
            if customer_id is not None and method.data["customer"] != customer_id:
                raise InvalidRequest("That card belongs to another customer.")
            card_json = method.data["card"]
            details = {
                "brand": card_json["brand"],
                "last4": card_json["last4"],
                "exp_month": card_json["exp_month"],
                "exp_year": card_json["exp_year"],
            }
            card = SandboxCard(card_json["brand"], Behavior(method.data["test_behavior"]))
        fails = card.behavior in (Behavior.DECLINE, Behavior.FAIL_CHARGES)
        decline_code = card.decline_code or "generic_decline"
        declined = decline(decline_code) if fails else None
        charge = ledger.create(
            kind="charge",
            prefix="ch",
            created=at,
            data={
                "customer": customer_id,
                "amount": amount,
                "currency": code,
                "amount_captured": amount if capture and not fails else 0,
                "amount_refunded": 0,
                "captured": capture and not fails,
                "paid": not fails,
                "refunded": False,
                "disputed": False,
                "voided": False,
                "status": "failed" if fails else "succeeded",
                "description": clean_text(description),
                "metadata": {"product": clean_text(product), "order_id": clean_text(order_id)},
                "payment_intent": new_id("pi"),
                "payment_method": payment_method_id,
                "payment_method_details": {"type": "card", "card": details},
                "invoice": invoice_id,
                "receipt_email": customer.data["email"] if customer is not None else "",
                "failure_code": "card_declined" if fails else None,
                "failure_message": declined.message if declined else None,
                "outcome": {
                    "type": "issuer_declined" if fails else "authorized",
                    "reason": decline_code if fails else None,
                },
                "test_behavior": card.behavior.value,
            },
        )
        ledger.emit("charge.failed" if fails else "charge.succeeded", charge)
        if capture and not fails and card.behavior == Behavior.DISPUTE:
            self._dispute(charge, reason="fraudulent", amount=None, at=_dispute_time(at))
        return charge, declined

    def charge_capture(
        self, *, charge_id: str, amount: int | None = None, at: datetime | None = None
    ) -> SandboxObject:
        """Capture an authorisation, whole or in part (the rest of the hold is released)."""
        moment = aware(at)
        with self._op() as ledger:
            charge = ledger.get(charge_id, "charge")
            body = charge.data
            self._check_authorised(body, "captured")
            wanted = body["amount"] if amount is None else check_amount(amount)
            if wanted > body["amount"]:
                raise AmountTooLarge(
                    f"Cannot capture {wanted}: only {body['amount']} was authorised."
                )
            body["captured"] = True
            body["amount_captured"] = wanted
            ledger.save(charge, at=moment)
            ledger.emit("charge.captured", charge)
            if body["test_behavior"] == Behavior.DISPUTE:
                self._dispute(charge, reason="fraudulent", amount=None, at=_dispute_time(moment))
        return charge

    def charge_void(self, *, charge_id: str, at: datetime | None = None) -> SandboxObject:
        """Release an authorisation without capturing it."""
        moment = aware(at)
        with self._op() as ledger:
            charge = ledger.get(charge_id, "charge")
            self._check_authorised(charge.data, "voided")
            charge.data["voided"] = True
            ledger.save(charge, at=moment)
            ledger.emit("charge.voided", charge)
        return charge

    @staticmethod
    def _check_authorised(body: JSON, verb: str) -> None:
        if body["status"] == "failed":
            raise NotAllowed(f"A failed charge cannot be {verb}.")
        if body["voided"]:
            raise NotAllowed(f"This authorisation was voided and cannot be {verb}.")
        if body["captured"]:
            raise NotAllowed(f"This charge is already captured and cannot be {verb}.")

    # --- refunds --------------------------------------------------------------------------
    def refund_create(
        self,
        *,
        charge_id: str,
        amount: int | None = None,
        reason: str = "",
        created: datetime | None = None,
    ) -> SandboxObject:
        """Refund part or (``amount`` None) all of what remains of a captured charge."""
        at = aware(created)
        with self._op() as ledger:
            charge = ledger.get(charge_id, "charge")
            body = charge.data
            if body["status"] == "failed":
                raise NotAllowed("A failed charge has nothing to refund.")
            if not body["captured"]:
                raise NotAllowed("This charge is not captured: void the authorisation instead.")
            if body["disputed"]:
                # As at Stripe: the dispute decides where the money goes.
                raise NotAllowed("This charge is disputed and cannot be refunded.")
            remaining = body["amount_captured"] - body["amount_refunded"]
            if remaining <= 0:
                raise AmountTooLarge("This charge is already fully refunded.")
            wanted = remaining if amount is None else check_amount(amount)
            if wanted > remaining:
                raise AmountTooLarge(
                    f"Cannot refund {wanted}: only {remaining} of this charge remains."
                )
            refund = ledger.create(
                kind="refund",
                prefix="re",
                created=at,
                data={
                    "charge": charge_id,
                    "payment_intent": body["payment_intent"],
                    "amount": wanted,
                    "currency": body["currency"],
                    "status": "succeeded",
                    "reason": clean_text(reason, limit=300),
                },
            )
            ledger.emit("refund.created", refund)
            body["amount_refunded"] += wanted
            body["refunded"] = body["amount_refunded"] >= body["amount_captured"]
            ledger.save(charge, at=at)
            ledger.emit("charge.refunded", charge)
        return refund

    # --- disputes -------------------------------------------------------------------------
    def dispute_create(
        self,
        *,
        charge_id: str,
        reason: str = "fraudulent",
        amount: int | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """The cardholder disputes a captured charge (what the 0259 test card does itself)."""
        with self._op() as ledger:
            charge = ledger.get(charge_id, "charge")
            return self._dispute(charge, reason=reason, amount=amount, at=aware(created))

    def _dispute(
        self, charge: SandboxObject, *, reason: str, amount: int | None, at: datetime
    ) -> SandboxObject:
        body = charge.data
        if not body["captured"]:
            raise NotAllowed("Only a captured charge can be disputed.")
        if body["disputed"]:
            raise NotAllowed("This charge is already disputed.")
        wanted = body["amount_captured"] if amount is None else check_amount(amount)
        if wanted > body["amount_captured"]:
            raise AmountTooLarge("A dispute cannot exceed the captured amount.")
        at = max(at, charge.updated)
        dispute = self.ledger.create(
            kind="dispute",
            prefix="dp",
            created=at,
            data={
                "charge": charge.object_id,
                "payment_intent": body["payment_intent"],
                "amount": wanted,
                "currency": body["currency"],
                "status": "needs_response",
                "reason": clean_text(reason, limit=120),
                "evidence_details": {"due_by": iso(at + _EVIDENCE_WINDOW)},
            },
        )
        self.ledger.emit("charge.dispute.created", dispute)
        body["disputed"] = True
        self.ledger.save(charge, at=at)
        self.ledger.emit("charge.updated", charge)
        return dispute

    def dispute_close(
        self, *, dispute_id: str, won: bool, at: datetime | None = None
    ) -> SandboxObject:
        moment = aware(at)
        with self._op() as ledger:
            dispute = ledger.get(dispute_id, "dispute")
            if dispute.data["status"] in ("won", "lost"):
                raise NotAllowed("This dispute is already closed.")
            dispute.data["status"] = "won" if won else "lost"
            ledger.save(dispute, at=moment)
            ledger.emit("charge.dispute.closed", dispute)
        return dispute


def _dispute_time(charged_at: datetime) -> datetime:
    """Disputes arrive a few days after the charge, but never in the future."""
    return min(charged_at + _DISPUTE_DELAY, max(timezone.now(), charged_at))
