"""Sandbox operations on coupons, discounts, tax ids and invoices.

Modelled on Stripe Billing (https://docs.stripe.com/api/invoices,
https://docs.stripe.com/api/coupons). Coupon percentages are basis points (12.5 % = 1250) so
every amount stays an integer; an invoice takes its customer's or subscription's discount.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from billingdesk.core.errors import CardDeclined, InvalidRequest, NotAllowed
from billingdesk.gateways.sandbox.engine.base import (
    add_interval,
    check_amount,
    check_country,
    check_currency,
    clean_text,
)
from billingdesk.gateways.sandbox.engine.ledger import aware, iso, parse_iso
from billingdesk.gateways.sandbox.engine.payments import PaymentOps
from billingdesk.gateways.sandbox.hosted import pay_url
from billingdesk.gateways.sandbox.models import SandboxObject

DURATIONS = ("once", "repeating", "forever")

# Tax id formats the sandbox accepts (a real gateway validates them the same way, roughly).
TAX_ID_FORMATS: dict[str, re.Pattern[str]] = {
    "eu_vat": re.compile(
        r"^(AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
        r"[0-9A-Z]{8,12}$"
    ),
    "gb_vat": re.compile(r"^GB([0-9]{9}|[0-9]{12})$"),
    "ch_vat": re.compile(r"^CHE[0-9]{9}(MWST|TVA|IVA)$"),
    "no_vat": re.compile(r"^[0-9]{9}MVA$"),
    "au_abn": re.compile(r"^[0-9]{11}$"),
    "nz_gst": re.compile(r"^[0-9]{8,9}$"),
    "ca_bn": re.compile(r"^[0-9]{9}$"),
    "in_gst": re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][0-9A-Z]Z[0-9A-Z]$"),
    "us_ein": re.compile(r"^[0-9]{2}-?[0-9]{7}$"),
}
_TAX_ID_COUNTRY = {
    "gb_vat": "GB",
    "ch_vat": "CH",
    "no_vat": "NO",
    "au_abn": "AU",
    "nz_gst": "NZ",
    "ca_bn": "CA",
    "in_gst": "IN",
    "us_ein": "US",
}


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    amount: int  # per unit, minor units
    quantity: int = 1


class BillingOps(PaymentOps):
    # --- coupons and discounts ------------------------------------------------------------
    def coupon_create(
        self,
        *,
        name: str,
        percent_off_bp: int | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
        duration: str = "once",
        duration_in_months: int | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        at = aware(created)
        if (percent_off_bp is None) == (amount_off is None):
            raise InvalidRequest("A coupon takes either percent_off_bp or amount_off.")
        if percent_off_bp is not None and not (
            isinstance(percent_off_bp, int) and 1 <= percent_off_bp <= 10_000
        ):
            raise InvalidRequest("percent_off_bp is between 1 and 10000 (0.01 % to 100 %).")
        code = ""
        if amount_off is not None:
            check_amount(amount_off)
            if not currency:
                raise InvalidRequest("An amount_off coupon needs a currency.")
            code = check_currency(currency)
        if duration not in DURATIONS:
            raise InvalidRequest(f"duration is one of {', '.join(DURATIONS)}.")
        if (duration == "repeating") != (duration_in_months is not None) or (
            duration_in_months is not None and duration_in_months < 1
        ):
            raise InvalidRequest("A repeating coupon (only) needs duration_in_months ≥ 1.")
        with self._op() as ledger:
            coupon = ledger.create(
                kind="coupon",
                prefix="co",
                created=at,
                data={
                    "name": clean_text(name, limit=300),
                    "percent_off_bp": percent_off_bp,
                    "amount_off": amount_off,
                    "currency": code or None,
                    "duration": duration,
                    "duration_in_months": duration_in_months,
                    "valid": True,
                    "times_redeemed": 0,
                },
            )
            ledger.emit("coupon.created", coupon)
        return coupon

    def discount_create(
        self,
        *,
        coupon_id: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """Apply a coupon to a customer or to one subscription (replacing its discount)."""
        at = aware(created)
        if (customer_id is None) == (subscription_id is None):
            raise InvalidRequest("Apply a coupon to a customer or to a subscription, not both.")
        with self._op() as ledger:
            coupon = ledger.get(coupon_id, "coupon")
            if not coupon.data["valid"]:
                raise NotAllowed("This coupon is no longer valid.")
            if subscription_id is not None:
                target = ledger.get(subscription_id, "subscription")
                if target.data["status"] == "canceled":
                    raise NotAllowed("A canceled subscription cannot get a discount.")
                owner = target.data["customer"]
                currency = target.data["plan"]["currency"]
                if coupon.data["amount_off"] is not None and coupon.data["currency"] != currency:
                    raise InvalidRequest("The coupon's currency is not the subscription's.")
                event = "customer.subscription.updated"
            else:
                assert customer_id is not None
                target = ledger.get(customer_id, "customer")
                owner = customer_id
                event = "customer.updated"
            months = coupon.data["duration_in_months"]
            discount = ledger.create(
                kind="discount",
                prefix="di",
                created=at,
                data={
                    "coupon": coupon_id,
                    "customer": owner,
                    "subscription": subscription_id,
                    "start": iso(at),
                    "end": iso(add_interval(at, "month", months)) if months else None,
                    "deleted": False,
                },
            )
            ledger.emit("customer.discount.created", discount)
            previous = target.data.get("discount")
            if previous:
                old = ledger.get(previous, "discount")
                old.data["deleted"] = True
                ledger.save(old, at=at)
                ledger.emit("customer.discount.deleted", old)
            target.data["discount"] = discount.object_id
            ledger.save(target, at=at)
            ledger.emit(event, target)
            coupon.data["times_redeemed"] += 1
            ledger.save(coupon, at=at)
            ledger.emit("coupon.updated", coupon)
        return discount

    # --- tax ids --------------------------------------------------------------------------
    def tax_id_create(
        self,
        *,
        customer_id: str,
        tax_type: str,
        value: str,
        country: str | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """A tax id; its country follows from the type (and, for EU VAT, the number's prefix)
        and must agree with ``country`` when one is given."""
        at = aware(created)
        pattern = TAX_ID_FORMATS.get(tax_type)
        if pattern is None:
            raise InvalidRequest(
                f"Unknown tax id type {tax_type!r}; known: {', '.join(sorted(TAX_ID_FORMATS))}."
            )
        cleaned = re.sub(r"[\s.\-]", "", value or "").upper()
        if tax_type == "us_ein":
            cleaned = (value or "").strip()
        if not pattern.match(cleaned):
            raise InvalidRequest(f"{value!r} is not a valid {tax_type} number.")
        if tax_type == "eu_vat":
            derived = "GR" if cleaned[:2] == "EL" else cleaned[:2]
        else:
            derived = _TAX_ID_COUNTRY[tax_type]
        if country is not None and check_country(country) != derived:
            raise InvalidRequest(f"{value!r} is not a tax id of {country.upper()}.")
        with self._op() as ledger:
            ledger.get(customer_id, "customer")
            tax_id = ledger.create(
                kind="tax_id",
                prefix="txi",
                created=at,
                data={
                    "customer": customer_id,
                    "type": tax_type,
                    "value": cleaned,
                    "country": derived,
                    "verification": {"status": "verified"},
                },
            )
            ledger.emit("customer.tax_id.created", tax_id)
        return tax_id

    # --- invoices -------------------------------------------------------------------------
    def invoice_create(
        self,
        *,
        customer_id: str,
        currency: str,
        lines: Sequence[Line],
        subscription_id: str | None = None,
        tax: int = 0,
        days_until_due: int | None = None,
        period_start: datetime | None = None,
        period_end: datetime | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """A draft invoice; the customer's (or subscription's) discount is applied."""
        at = aware(created)
        code = check_currency(currency)
        if not lines:
            raise InvalidRequest("An invoice needs at least one line.")
        subtotal = 0
        for line in lines:
            check_amount(line.amount, allow_zero=True)
            if line.quantity < 1:
                raise InvalidRequest("A line's quantity is at least 1.")
            subtotal += line.amount * line.quantity
        check_amount(tax, allow_zero=True)
        with self._op() as ledger:
            customer = ledger.get(customer_id, "customer")
            discount_id = customer.data["discount"]
            if subscription_id is not None:
                subscription = ledger.get(subscription_id, "subscription")
                discount_id = subscription.data["discount"] or discount_id
            discount = self._apply_discount(discount_id, subtotal, code, at)
            total = subtotal - discount + tax
            invoice = ledger.create(
                kind="invoice",
                prefix="in",
                created=at,
                data={
                    "customer": customer_id,
                    "customer_email": customer.data["email"],
                    "subscription": subscription_id,
                    "status": "draft",
                    "number": None,
                    "currency": code,
                    "lines": [
                        {
                            "description": clean_text(line.description),
                            "amount": line.amount,
                            "quantity": line.quantity,
                        }
                        for line in lines
                    ],
                    "subtotal": subtotal,
                    "discount": discount_id if discount else None,
                    "total_discount_amount": discount,
                    "tax": tax,
                    "total": total,
                    "amount_due": total,
                    "amount_paid": 0,
                    "amount_remaining": total,
                    "attempt_count": 0,
                    "charge": None,
                    "due_date": iso(at + timedelta(days=days_until_due))
                    if days_until_due is not None
                    else None,
                    "period_start": iso(period_start or at),
                    "period_end": iso(period_end or at),
                    "hosted_invoice_url": None,
                    "invoice_pdf": None,
                    "status_transitions": {
                        "finalized_at": None,
                        "paid_at": None,
                        "voided_at": None,
                    },
                    "sent_count": 0,
                    "last_sent_at": None,
                },
            )
            ledger.emit("invoice.created", invoice)
        return invoice

    def _apply_discount(
        self, discount_id: str | None, subtotal: int, currency: str, at: datetime
    ) -> int:
        """What the discount takes off this invoice; a "once" coupon is used up by it."""
        if not discount_id:
            return 0
        discount = self.ledger.get(discount_id, "discount")
        start, end = parse_iso(discount.data["start"]), parse_iso(discount.data["end"])
        if discount.data["deleted"] or (start and start > at) or (end and end <= at):
            return 0
        coupon = self.ledger.get(discount.data["coupon"], "coupon").data
        bp: int | None = coupon["percent_off_bp"]
        amount: int = 0
        if bp is not None:
            # Round half up, in integers.
            amount = min(subtotal, (subtotal * bp + 5_000) // 10_000)
        elif coupon["currency"] == currency:
            amount = min(subtotal, int(coupon["amount_off"]))
        if amount and coupon["duration"] == "once":
            discount.data["deleted"] = True
            discount.data["end"] = iso(at)
            self.ledger.save(discount, at=at)
            self.ledger.emit("customer.discount.deleted", discount)
        return amount

    def invoice_finalize(self, *, invoice_id: str, at: datetime | None = None) -> SandboxObject:
        """Draft → open, with its number and pay link (→ paid at once when nothing is due)."""
        moment = aware(at)
        with self._op() as ledger:
            invoice = ledger.get(invoice_id, "invoice")
            self._finalize(invoice, moment)
        return invoice

    def _finalize(self, invoice: SandboxObject, at: datetime) -> None:
        body = invoice.data
        if body["status"] != "draft":
            raise NotAllowed(
                f"Only a draft invoice can be finalised (this one is {body['status']})."
            )
        body["status"] = "open"
        body["number"] = self.ledger.next_invoice_number()
        body["hosted_invoice_url"] = pay_url(
            account_id=str(self.account.pk), invoice_id=invoice.object_id
        )
        body["status_transitions"]["finalized_at"] = iso(at)
        self.ledger.save(invoice, at=at)
        self.ledger.emit("invoice.finalized", invoice)
        if body["amount_due"] == 0:
            self._mark_paid(invoice, at)

    def invoice_send(self, *, invoice_id: str, at: datetime | None = None) -> SandboxObject:
        """Email the invoice (or, once paid, its receipt) to the customer again."""
        moment = aware(at)
        with self._op() as ledger:
            invoice = ledger.get(invoice_id, "invoice")
            status = invoice.data["status"]
            if status == "draft":
                self._finalize(invoice, moment)
            elif status not in ("open", "paid"):
                raise NotAllowed(f"A {status} invoice cannot be sent.")
            invoice.data["sent_count"] += 1
            invoice.data["last_sent_at"] = iso(moment)
            ledger.save(invoice, at=moment)
            ledger.emit("invoice.sent", invoice)
        return invoice

    def invoice_pay(
        self,
        *,
        invoice_id: str,
        payment_method_id: str | None = None,
        card_number: str | None = None,
        at: datetime | None = None,
    ) -> SandboxObject:
        """Charge an open invoice; a decline is recorded, then raised as ``CardDeclined``."""
        moment = aware(at)
        with self._op() as ledger:
            invoice = ledger.get(invoice_id, "invoice")
            status = invoice.data["status"]
            if status == "paid":
                raise NotAllowed("This invoice is already paid.")
            if status != "open":
                raise NotAllowed(f"This invoice is {status}: it cannot be paid.")
            declined = self._pay(invoice, moment, payment_method_id, card_number)
        if declined is not None:
            raise declined
        return invoice

    def _pay(
        self,
        invoice: SandboxObject,
        at: datetime,
        payment_method_id: str | None = None,
        card_number: str | None = None,
    ) -> CardDeclined | None:
        body = invoice.data
        lines = body["lines"]
        charge, declined = self._charge(
            customer_id=body["customer"],
            amount=body["amount_due"],
            currency=body["currency"],
            payment_method_id=payment_method_id,
            card_number=card_number,
            capture=True,
            description=f"Invoice {body['number']}",
            product=lines[0]["description"] if len(lines) == 1 else "",
            order_id="",
            invoice_id=invoice.object_id,
            at=at,
        )
        body["attempt_count"] += 1
        body["charge"] = charge.object_id
        if declined is not None:
            self.ledger.save(invoice, at=at)
            self.ledger.emit("invoice.payment_failed", invoice)
            return declined
        self._mark_paid(invoice, at)
        return None

    def _mark_paid(self, invoice: SandboxObject, at: datetime) -> None:
        body = invoice.data
        body["status"] = "paid"
        body["amount_paid"] = body["amount_due"]
        body["amount_remaining"] = 0
        body["status_transitions"]["paid_at"] = iso(at)
        self.ledger.save(invoice, at=at)
        self.ledger.emit("invoice.paid", invoice)

    def invoice_void(self, *, invoice_id: str, at: datetime | None = None) -> SandboxObject:
        moment = aware(at)
        with self._op() as ledger:
            invoice = ledger.get(invoice_id, "invoice")
            if invoice.data["status"] != "open":
                raise NotAllowed(
                    f"Only an open invoice can be voided (this one is {invoice.data['status']})."
                )
            invoice.data["status"] = "void"
            invoice.data["amount_remaining"] = 0
            invoice.data["status_transitions"]["voided_at"] = iso(moment)
            ledger.save(invoice, at=moment)
            ledger.emit("invoice.voided", invoice)
        return invoice
