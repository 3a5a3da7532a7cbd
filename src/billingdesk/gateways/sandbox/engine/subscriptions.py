"""Sandbox subscriptions: create, renew, cancel (now or at period end), pause and resume.

Modelled on Stripe Billing (https://docs.stripe.com/api/subscriptions): a subscription's first
period (unless trialing) and each renewal produce an invoice that is finalised and paid with
the customer's default card. A failed first payment leaves the subscription ``incomplete``; a
failed renewal makes it ``past_due``, and a second one ``unpaid``. ``subscription_renew``
stands in for the gateway's clock, which the seed uses to play months of history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.gateways.sandbox.engine.base import (
    INTERVALS,
    add_interval,
    check_amount,
    check_currency,
    clean_text,
)
from billingdesk.gateways.sandbox.engine.billing import BillingOps, Line
from billingdesk.gateways.sandbox.engine.ledger import aware, iso, parse_iso
from billingdesk.gateways.sandbox.models import SandboxObject


class SubscriptionOps(BillingOps):
    # --- subscriptions --------------------------------------------------------------------
    def subscription_create(
        self,
        *,
        customer_id: str,
        plan: str,
        product: str,
        amount: int,
        currency: str,
        interval: str = "month",
        interval_count: int = 1,
        quantity: int = 1,
        trial_days: int | None = None,
        coupon_id: str | None = None,
        created: datetime | None = None,
    ) -> SandboxObject:
        """Subscribe a customer; unless trialing, the first period is invoiced and charged
        now (a decline leaves the subscription ``incomplete`` with its invoice open)."""
        at = aware(created)
        check_amount(amount, allow_zero=True)
        code = check_currency(currency)
        if interval not in INTERVALS:
            raise InvalidRequest(f"interval is one of {', '.join(INTERVALS)}.")
        if not 1 <= interval_count <= 36 or not 1 <= quantity <= 10_000:
            raise InvalidRequest(
                "interval_count (1 to 36) or quantity (1 to 10000) is out of range."
            )
        if trial_days is not None and not 0 <= trial_days <= 730:
            raise InvalidRequest("trial_days is between 0 and 730.")
        trialing = bool(trial_days)
        with self._op() as ledger:
            customer = ledger.get(customer_id, "customer")
            if not trialing and not customer.data["invoice_settings"]["default_payment_method"]:
                raise InvalidRequest("The customer has no card on file.")
            if trialing:
                assert trial_days is not None
                period_end = at + timedelta(days=trial_days)
            else:
                period_end = add_interval(at, interval, interval_count)
            subscription = ledger.create(
                kind="subscription",
                prefix="sub",
                created=at,
                data={
                    "customer": customer_id,
                    "status": "trialing" if trialing else "incomplete",
                    "plan": {
                        "id": clean_text(plan, limit=120),
                        "product": clean_text(product, limit=300),
                        "amount": amount,
                        "currency": code,
                        "interval": interval,
                        "interval_count": interval_count,
                    },
                    "quantity": quantity,
                    "current_period_start": iso(at),
                    "current_period_end": iso(period_end),
                    "cancel_at_period_end": False,
                    "canceled_at": None,
                    "ended_at": None,
                    "trial_start": iso(at) if trialing else None,
                    "trial_end": iso(period_end) if trialing else None,
                    "latest_invoice": None,
                    "discount": None,
                },
            )
            ledger.emit("customer.subscription.created", subscription)
            if coupon_id is not None:
                self.discount_create(
                    coupon_id=coupon_id, subscription_id=subscription.object_id, created=at
                )
            if not trialing:
                paid = self._bill_period(subscription, at, at, period_end)
                subscription.data["status"] = "active" if paid else "incomplete"
                ledger.save(subscription, at=at)
                ledger.emit("customer.subscription.updated", subscription)
        return subscription

    def _bill_period(
        self, subscription: SandboxObject, at: datetime, start: datetime, end: datetime
    ) -> bool:
        """Invoice one period of a subscription and try to pay it; True when paid."""
        body = subscription.data
        plan = body["plan"]
        invoice = self.invoice_create(
            customer_id=body["customer"],
            currency=plan["currency"],
            lines=[Line(plan["product"], plan["amount"], body["quantity"])],
            subscription_id=subscription.object_id,
            period_start=start,
            period_end=end,
            created=at,
        )
        self._finalize(invoice, at)
        body["latest_invoice"] = invoice.object_id
        if invoice.data["status"] == "paid":
            return True
        return self._pay(invoice, at) is None

    def subscription_renew(
        self, *, subscription_id: str, at: datetime | None = None
    ) -> SandboxObject:
        """Move a subscription into its next period, as the gateway's clock would.

        Ends it instead when it was set to cancel at period end. The time defaults to the end
        of the current period.
        """
        with self._op() as ledger:
            subscription = ledger.get(subscription_id, "subscription")
            body = subscription.data
            if body["status"] in ("canceled", "incomplete", "incomplete_expired", "paused"):
                raise NotAllowed(f"This subscription is {body['status']}: it does not renew.")
            period_end = parse_iso(body["current_period_end"])
            assert period_end is not None
            moment = aware(at) if at is not None else period_end
            if body["cancel_at_period_end"]:
                body["status"] = "canceled"
                body["ended_at"] = iso(period_end)
                ledger.save(subscription, at=moment)
                ledger.emit("customer.subscription.deleted", subscription)
                return subscription
            plan = body["plan"]
            new_end = add_interval(period_end, plan["interval"], plan["interval_count"])
            body["current_period_start"] = iso(period_end)
            body["current_period_end"] = iso(new_end)
            paid = self._bill_period(subscription, moment, period_end, new_end)
            if paid:
                body["status"] = "active"
            else:
                body["status"] = (
                    "unpaid" if body["status"] in ("past_due", "unpaid") else "past_due"
                )
            ledger.save(subscription, at=moment)
            ledger.emit("customer.subscription.updated", subscription)
        return subscription

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, at: datetime | None = None
    ) -> SandboxObject:
        moment = aware(at)
        with self._op() as ledger:
            subscription = ledger.get(subscription_id, "subscription")
            body = subscription.data
            if body["status"] in ("canceled", "incomplete_expired"):
                raise NotAllowed("This subscription is already canceled.")
            body["canceled_at"] = iso(moment)
            if at_period_end:
                if body["cancel_at_period_end"]:
                    raise NotAllowed("This subscription is already set to cancel at period end.")
                body["cancel_at_period_end"] = True
                ledger.save(subscription, at=moment)
                ledger.emit("customer.subscription.updated", subscription)
            else:
                body["status"] = "canceled"
                body["cancel_at_period_end"] = False
                body["ended_at"] = iso(moment)
                ledger.save(subscription, at=moment)
                ledger.emit("customer.subscription.deleted", subscription)
        return subscription

    def subscription_reactivate(
        self, *, subscription_id: str, at: datetime | None = None
    ) -> SandboxObject:
        """Undo a cancellation at period end while the period runs (Stripe's
        ``cancel_at_period_end=false``)."""
        moment = aware(at)
        with self._op() as ledger:
            subscription = ledger.get(subscription_id, "subscription")
            body = subscription.data
            if body["status"] in ("canceled", "incomplete_expired"):
                raise NotAllowed("This subscription has already ended: it cannot be reactivated.")
            if not body["cancel_at_period_end"]:
                raise NotAllowed("This subscription is not set to cancel at period end.")
            body["cancel_at_period_end"] = False
            body["canceled_at"] = None
            ledger.save(subscription, at=moment)
            ledger.emit("customer.subscription.updated", subscription)
        return subscription

    def subscription_pause(
        self, *, subscription_id: str, at: datetime | None = None
    ) -> SandboxObject:
        moment = aware(at)
        with self._op() as ledger:
            subscription = ledger.get(subscription_id, "subscription")
            if subscription.data["status"] not in ("active", "trialing", "past_due"):
                raise NotAllowed(
                    f"This subscription is {subscription.data['status']}: it cannot pause."
                )
            subscription.data["status"] = "paused"
            ledger.save(subscription, at=moment)
            ledger.emit("customer.subscription.paused", subscription)
        return subscription

    def subscription_resume(
        self, *, subscription_id: str, at: datetime | None = None
    ) -> SandboxObject:
        moment = aware(at)
        with self._op() as ledger:
            subscription = ledger.get(subscription_id, "subscription")
            if subscription.data["status"] != "paused":
                raise NotAllowed("Only a paused subscription can resume.")
            subscription.data["status"] = "active"
            ledger.save(subscription, at=moment)
            ledger.emit("customer.subscription.resumed", subscription)
        return subscription
