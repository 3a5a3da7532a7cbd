"""Agent actions on a Stripe account (the connector's write side).

Each action checks the object first where Stripe's own answer would be late or missing (an
over-refund is refused before any call; a retry finds the refund an earlier try made through
the idempotency key kept in its metadata), sends the caller's key as ``Idempotency-Key``,
and returns the changed objects already mapped, for the mirror. Stripe documents: refunds
https://docs.stripe.com/api/refunds, PaymentIntents https://docs.stripe.com/api/payment_intents,
subscriptions https://docs.stripe.com/api/subscriptions, invoices
https://docs.stripe.com/api/invoices, tax ids https://docs.stripe.com/api/tax_ids, Checkout
https://docs.stripe.com/api/checkout/sessions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    BillingdeskError,
    CardDeclined,
    InvalidRequest,
    NotAllowed,
)
from billingdesk.core.money import Money
from billingdesk.gateways.interface import (
    ActionResult,
    ChargeStatus,
    Connector,
    GatewayObject,
    GwCharge,
)
from billingdesk.gateways.stripe import mapping
from billingdesk.gateways.stripe.client import StripeApi
from billingdesk.gateways.stripe.mapping import JSON

PAGE_SIZE = 100  # Stripe's maximum
# Stripe's own refund reasons; anything else an agent writes travels in metadata.
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
IDEMPOTENCY_METADATA = "billingdesk_idempotency_key"
# Stripe's text evidence fields (stripe-python ``_dispute.py`` class ``Evidence``); the file
# fields (receipt, customer_communication, refund_policy...) take a File id and are not sent
# from here yet. Limits: 20,000 characters a field, 150,000 in all (DisputesResource.d.ts).
STRIPE_TEXT_EVIDENCE = frozenset(
    {
        "access_activity_log",
        "billing_address",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_tracking_number",
        "uncategorized_text",
    }
)
# The evidence fields that take a File id (uploaded with purpose=dispute_evidence).
STRIPE_FILE_EVIDENCE = frozenset(
    {
        "cancellation_policy",
        "customer_communication",
        "customer_signature",
        "duplicate_charge_documentation",
        "receipt",
        "refund_policy",
        "service_documentation",
        "shipping_documentation",
        "uncategorized_file",
    }
)
# files.stripe.com takes dispute evidence as PDF, JPEG or PNG of at most 5 MB
# (https://stripe.com/docs/guides/file-upload); billingdesk sends PDF only.
EVIDENCE_FILE_LIMIT = 5 * 1024 * 1024
EVIDENCE_FIELD_LIMIT = 20_000
EVIDENCE_TOTAL_LIMIT = 150_000
# Stripe accepts evidence only while the dispute waits for the merchant's answer.
_ANSWERABLE = frozenset({"needs_response", "warning_needs_response"})


def clean_evidence(evidence: Mapping[str, str]) -> dict[str, str]:
    """The non-empty text fields of ``evidence``, checked against Stripe's names and limits
    before anything is sent (a refused submission must not be half-sent)."""
    unknown = sorted(set(evidence) - STRIPE_TEXT_EVIDENCE)
    if unknown:
        raise InvalidRequest(f"Unknown evidence field(s): {', '.join(unknown)}.")
    cleaned = {k: v.strip() for k, v in evidence.items() if v and v.strip()}
    if not cleaned:
        raise InvalidRequest("The evidence is empty: write at least one field.")
    for name, value in cleaned.items():
        if len(value) > EVIDENCE_FIELD_LIMIT:
            raise InvalidRequest(
                f"Evidence field {name} is {len(value)} characters; "
                f"the limit is {EVIDENCE_FIELD_LIMIT}."
            )
    total = sum(len(v) for v in cleaned.values())
    if total > EVIDENCE_TOTAL_LIMIT:
        raise InvalidRequest(
            f"The evidence is {total} characters in all; the limit is {EVIDENCE_TOTAL_LIMIT}."
        )
    return cleaned


def clean_evidence_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The file evidence, checked against Stripe's file fields, type and size limit before
    anything is uploaded."""
    unknown = sorted(set(files) - STRIPE_FILE_EVIDENCE)
    if unknown:
        raise InvalidRequest(f"Unknown evidence file field(s): {', '.join(unknown)}.")
    for name, data in files.items():
        if not data.startswith(b"%PDF-"):
            raise InvalidRequest(f"Evidence file {name} is not a PDF.")
        if len(data) > EVIDENCE_FILE_LIMIT:
            raise InvalidRequest(
                f"Evidence file {name} is {len(data)} bytes; Stripe takes at most "
                f"{EVIDENCE_FILE_LIMIT} bytes a file."
            )
    return dict(files)


class StripeActions(Connector):
    """The Stripe client of one account, and the actions run through it."""

    @cached_property
    def api(self) -> StripeApi:
        creds = self.account.credentials or {}
        # ``api_base`` points the account at a Stripe-compatible server (localstripe, a
        # test fake); real accounts leave it out and talk to api.stripe.com.
        return StripeApi(
            secret_key=str(creds.get("secret_key") or ""),
            api_base=str(creds.get("api_base") or "") or None,
        )

    @staticmethod
    def _now() -> datetime:
        """The version of a state read now: whole seconds, like Stripe's event ``created``,
        so an event of the same second as a read ties with it (and the mirror orders the
        tie) instead of looking older than a read made a few milliseconds before it."""
        return timezone.now().replace(microsecond=0)

    def check_credentials(self) -> None:
        """GET /v1/balance: cheap, needs only a valid secret (or restricted) key."""
        self.api.balance()

    # --- actions -------------------------------------------------------------------------
    def _result(self, objects: Iterable[GatewayObject], url: str = "") -> ActionResult:
        return ActionResult(objects=list(objects), request_id=self.api.last_request_id, url=url)

    def _refreshed_on_refusal(
        self, charge_id: str, act: Callable[[], ActionResult]
    ) -> ActionResult:
        """Run an action on a charge; if Stripe's live state refuses it (already refunded,
        less left than the mirror said, disputed, captured meanwhile), hand the charge's live
        state with the refusal (``refreshed``), so the mirror is brought up to date and the
        panel stops offering what cannot be done."""
        try:
            return act()
        except (NotAllowed, AmountTooLarge) as refusal:
            try:
                raw, _ = self._charge(charge_id)
            except BillingdeskError:
                raise refusal from None  # it stands; the next event refreshes the mirror
            refusal.refreshed.extend(mapping.charge_bundle(raw, self._now()))
            raise

    def _charge(self, charge_id: str) -> tuple[JSON, GwCharge]:
        raw = self.api.retrieve("charges", charge_id, expand=["refunds", "payment_intent"])
        return raw, mapping.charge(raw, self._now())

    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._refund_create(
                charge_id=charge_id, amount=amount, reason=reason, idempotency_key=idempotency_key
            ),
        )

    def _refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        raw, charge = self._charge(charge_id)
        for item in mapping.list_data(raw.get("refunds")):
            if (item.get("metadata") or {}).get(IDEMPOTENCY_METADATA) == idempotency_key:
                # This refund was already made by an earlier try of the same request.
                return self._result(mapping.charge_bundle(raw, self._now()))
        if charge.status in (ChargeStatus.AUTHORIZED, ChargeStatus.VOIDED):
            raise NotAllowed(
                "This payment was only authorised, not captured: release (void) the "
                "authorisation instead of refunding it."
            )
        if charge.status in (ChargeStatus.FAILED, ChargeStatus.PENDING):
            raise NotAllowed(f"This payment is {charge.status.value}: it cannot be refunded.")
        remaining = charge.amount_captured - charge.amount_refunded
        if amount is not None and amount <= 0:
            raise InvalidRequest("A refund amount must be more than zero.")
        if remaining <= 0:
            raise AmountTooLarge("This payment has already been refunded in full.")
        if amount is not None and amount > remaining:
            raise AmountTooLarge(
                f"Cannot refund {Money(amount, charge.currency)}: only "
                f"{Money(remaining, charge.currency)} of this payment is left to refund."
            )
        params: dict[str, Any] = {
            "charge": charge_id,
            "metadata": {"reason": reason[:500], IDEMPOTENCY_METADATA: idempotency_key},
        }
        # Always explicit: "all that remains" is what the agent saw, not the full charge.
        params["amount"] = remaining if amount is None else amount
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        self.api.create("refunds", params, idempotency_key=idempotency_key)
        raw, _ = self._charge(charge_id)
        return self._result(mapping.charge_bundle(raw, self._now()))

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
        if amount <= 0:
            raise InvalidRequest("An authorisation amount must be more than zero.")
        if payment_method_id is None:
            cust = self.api.retrieve("customers", customer_id)
            payment_method_id = mapping.ref(
                (cust.get("invoice_settings") or {}).get("default_payment_method")
            ) or mapping.ref(cust.get("default_source"))
            if not payment_method_id:
                raise NotAllowed("This customer has no saved card to authorise.")
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "capture_method": "manual",
            "confirm": True,
            # Merchant-initiated: the customer is not there to pass 3-D Secure.
            "off_session": True,
            "expand": ["latest_charge"],
        }
        if description:
            params["description"] = description
        pi = self.api.create("payment_intents", params, idempotency_key=idempotency_key)
        error = pi.get("last_payment_error") or {}
        if pi.get("status") == "requires_payment_method" and error:
            raise CardDeclined(
                f"The card was declined: {error.get('message') or 'no reason given'}",
                decline_code=str(error.get("decline_code") or error.get("code") or "declined"),
            )
        if pi.get("status") == "requires_action":
            raise NotAllowed(
                "The card needs the customer to authenticate (3-D Secure); send them a "
                "payment request instead."
            )
        return self._result(mapping.payment_intent_bundle(pi, self._now()))

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._charge_capture(
                charge_id=charge_id, amount=amount, idempotency_key=idempotency_key
            ),
        )

    def _charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        raw, charge = self._charge(charge_id)
        if charge.status is not ChargeStatus.AUTHORIZED:
            if raw.get("captured") and charge.status is not ChargeStatus.FAILED:
                # Captured already (perhaps by an earlier try): report the current state.
                return self._result(mapping.charge_bundle(raw, self._now()))
            raise NotAllowed(f"A {charge.status.value} payment cannot be captured.")
        if amount is not None and amount <= 0:
            raise InvalidRequest("A capture amount must be more than zero.")
        if amount is not None and amount > charge.amount:
            raise AmountTooLarge(
                f"Cannot capture {Money(amount, charge.currency)}: only "
                f"{Money(charge.amount, charge.currency)} was authorised."
            )
        pi_id = mapping.ref(raw.get("payment_intent"))
        if pi_id:
            params: dict[str, Any] = {"expand": ["latest_charge.refunds"]}
            if amount is not None:
                params["amount_to_capture"] = amount
            self.api.act(
                "payment_intents", "capture", pi_id, params, idempotency_key=idempotency_key
            )
        else:  # a legacy Charge-API authorisation
            self.api.act(
                "charges",
                "capture",
                charge_id,
                {"amount": amount} if amount is not None else {},
                idempotency_key=idempotency_key,
            )
        raw, _ = self._charge(charge_id)
        return self._result(mapping.charge_bundle(raw, self._now()))

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._charge_void(charge_id=charge_id, idempotency_key=idempotency_key),
        )

    def _charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        raw, charge = self._charge(charge_id)
        if charge.status is ChargeStatus.VOIDED:
            return self._result(mapping.charge_bundle(raw, self._now()))
        if charge.status is not ChargeStatus.AUTHORIZED:
            raise NotAllowed(
                f"Only an uncaptured authorisation can be voided; this payment is "
                f"{charge.status.value.replace('_', ' ')}."
            )
        pi_id = mapping.ref(raw.get("payment_intent"))
        if pi_id:
            pi = self.api.act(
                "payment_intents",
                "cancel",
                pi_id,
                {"expand": ["latest_charge.refunds"]},
                idempotency_key=idempotency_key,
            )
            return self._result(mapping.payment_intent_bundle(pi, self._now()))
        # A legacy uncaptured Charge is released by refunding it.
        self.api.create("refunds", {"charge": charge_id}, idempotency_key=idempotency_key)
        raw, _ = self._charge(charge_id)
        return self._result(mapping.charge_bundle(raw, self._now()))

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        current = self.api.retrieve("subscriptions", subscription_id)
        if current.get("status") in ("canceled", "incomplete_expired"):
            return self._result(mapping.subscription_bundle(current, self._now()))
        if at_period_end:
            sub = self.api.update(
                "subscriptions",
                subscription_id,
                {"cancel_at_period_end": True},
                idempotency_key=idempotency_key,
            )
        else:
            sub = self.api.act(
                "subscriptions", "cancel", subscription_id, {}, idempotency_key=idempotency_key
            )
        return self._result(mapping.subscription_bundle(sub, self._now()))

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Pause collection (https://docs.stripe.com/billing/subscriptions/pause-payment):
        invoices made while paused are voided; the status stays ``active`` at Stripe and the
        mirror shows it paused (``pause_collection`` set)."""
        current = self.api.retrieve("subscriptions", subscription_id)
        if current.get("pause_collection"):
            return self._result(mapping.subscription_bundle(current, self._now()))
        if current.get("status") not in ("active", "trialing", "past_due"):
            raise NotAllowed(
                f"This subscription is {current.get('status')}: only an active one can be paused."
            )
        sub = self.api.update(
            "subscriptions",
            subscription_id,
            {"pause_collection": {"behavior": "void"}},
            idempotency_key=idempotency_key,
        )
        return self._result(mapping.subscription_bundle(sub, self._now()))

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Clear ``pause_collection`` (an empty value unsets it), so invoices are collected."""
        current = self.api.retrieve("subscriptions", subscription_id)
        if not current.get("pause_collection"):
            if current.get("status") in ("active", "trialing", "past_due"):
                return self._result(mapping.subscription_bundle(current, self._now()))
            raise NotAllowed(f"This subscription is {current.get('status')}: it is not paused.")
        sub = self.api.update(
            "subscriptions",
            subscription_id,
            {"pause_collection": ""},
            idempotency_key=idempotency_key,
        )
        return self._result(mapping.subscription_bundle(sub, self._now()))

    def subscription_reactivate(
        self, *, subscription_id: str, idempotency_key: str
    ) -> ActionResult:
        """``cancel_at_period_end=false`` on a subscription that still runs (Stripe refuses
        any other change to a canceled one)."""
        current = self.api.retrieve("subscriptions", subscription_id)
        status = current.get("status")
        if status in ("canceled", "incomplete_expired"):
            raise NotAllowed(f"This subscription is {status}: it cannot be reactivated.")
        if not current.get("cancel_at_period_end"):
            return self._result(mapping.subscription_bundle(current, self._now()))
        sub = self.api.update(
            "subscriptions",
            subscription_id,
            {"cancel_at_period_end": False},
            idempotency_key=idempotency_key,
        )
        return self._result(mapping.subscription_bundle(sub, self._now()))

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
        if quantity < 1:
            raise InvalidRequest("A subscription needs a quantity of at least 1.")
        # Prices (price_…) are today's objects; plans are their legacy predecessors and
        # are still accepted in items[][plan].
        item: dict[str, Any] = {"price" if plan.startswith("price_") else "plan": plan}
        if quantity != 1:
            item["quantity"] = quantity
        params: dict[str, Any] = {"customer": customer_id, "items": [item]}
        if coupon_id:
            params["discounts"] = [{"coupon": coupon_id}]
        if trial_days:
            params["trial_period_days"] = trial_days
        sub = self.api.create("subscriptions", params, idempotency_key=idempotency_key)
        return self._result(mapping.subscription_bundle(sub, self._now()))

    def dispute_evidence_submit(
        self,
        *,
        dispute_id: str,
        evidence: Mapping[str, str],
        idempotency_key: str,
        files: Mapping[str, bytes] | None = None,
    ) -> ActionResult:
        """POST /v1/disputes/{id} with ``evidence[...]`` and ``submit=true``: final, Stripe
        "typically" takes one submission, so the live status is checked first. Files go to
        files.stripe.com first (``purpose=dispute_evidence``); their ids fill the file fields
        of the one submitting request, so a refused upload submits nothing."""
        fields: dict[str, str] = clean_evidence(evidence)
        documents = clean_evidence_files(files or {})
        live = self.api.retrieve("disputes", dispute_id)
        status = str(live.get("status") or "")
        if status not in _ANSWERABLE:
            raise NotAllowed(f"This dispute is {status or 'closed'}: it takes no evidence now.")
        for name, data in sorted(documents.items()):
            uploaded = self.api.file_upload(
                data=data,
                filename=f"{dispute_id}-{name}.pdf",
                purpose="dispute_evidence",
                idempotency_key=f"{idempotency_key}:file:{name}",
            )
            fields[name] = str(uploaded["id"])
        submitted = self.api.update(
            "disputes",
            dispute_id,
            {"evidence": fields, "submit": True},
            idempotency_key=idempotency_key,
        )
        return self._result([mapping.dispute(submitted, self._now())])

    def dispute_accept(self, *, dispute_id: str, idempotency_key: str) -> ActionResult:
        """POST /v1/disputes/{id}/close: the dispute is conceded (lost), irreversibly."""
        live = self.api.retrieve("disputes", dispute_id)
        status = str(live.get("status") or "")
        if status not in _ANSWERABLE:
            raise NotAllowed(f"This dispute is {status or 'closed'}: it cannot be accepted now.")
        closed = self.api.act("disputes", "close", dispute_id, {}, idempotency_key=idempotency_key)
        return self._result([mapping.dispute(closed, self._now())])

    def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        inv = self.api.retrieve("invoices", invoice_id)
        status = inv.get("status")
        if status in ("void", "uncollectible"):
            raise NotAllowed(f"A {status} invoice cannot be sent.")
        if status == "draft":
            # Stripe sends only finalized invoices; finalizing gives it its number.
            self.api.act(
                "invoices",
                "finalize_invoice",
                invoice_id,
                {},
                idempotency_key=f"{idempotency_key}:finalize",
            )
        sent = self.api.act(
            "invoices", "send_invoice", invoice_id, {}, idempotency_key=f"{idempotency_key}:send"
        )
        return self._result([mapping.invoice(sent, self._now())])

    def invoice_void(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        """``POST /v1/invoices/{id}/void``: Stripe voids only an open (or uncollectible)
        invoice; a retry after it voided answers with the invoice as it is."""
        inv = self.api.retrieve("invoices", invoice_id)
        status = inv.get("status")
        if status == "void":
            return self._result([mapping.invoice(inv, self._now())])
        if status == "paid":
            raise NotAllowed("A paid invoice cannot be voided: refund its payment instead.")
        if status not in ("open", "uncollectible"):
            raise NotAllowed(f"A {status} invoice cannot be voided: only an open one can.")
        voided = self.api.act(
            "invoices", "void_invoice", invoice_id, {}, idempotency_key=idempotency_key
        )
        return self._result([mapping.invoice(voided, self._now())])

    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        if subscription_id:
            targets = [subscription_id]
        elif customer_id:
            # Since API 2025-03-31.basil Stripe discounts subscriptions, not customers: a
            # customer's coupon goes on each of their live subscriptions.
            subs = self.api.list_objects(
                "subscriptions", {"customer": customer_id, "status": "active", "limit": PAGE_SIZE}
            )
            targets = [str(s["id"]) for s in subs.get("data") or []]
            if not targets:
                raise NotAllowed(
                    "This customer has no active subscription. Stripe applies coupons to "
                    "subscriptions (and invoices), not to customers."
                )
        else:
            raise InvalidRequest("Say which customer or subscription the coupon is for.")
        objects: list[GatewayObject] = []
        for sub_id in targets:
            sub = self.api.update(
                "subscriptions",
                sub_id,
                {"discounts": [{"coupon": coupon_id}], "expand": ["discounts"]},
                idempotency_key=f"{idempotency_key}:{sub_id}",
            )
            objects.extend(mapping.subscription_bundle(sub, self._now()))
        return self._result(objects)

    def tax_id_add(
        self, *, customer_id: str, tax_type: str, value: str, idempotency_key: str
    ) -> ActionResult:
        if not tax_type or not value.strip():
            raise InvalidRequest("A tax id needs a type (e.g. eu_vat) and a value.")
        txi = self.api.create_nested(
            "customers.tax_ids",
            customer_id,
            {"type": tax_type, "value": value.strip()},
            idempotency_key=idempotency_key,
        )
        if not txi.get("customer"):
            txi = {**txi, "customer": customer_id}
        return self._result([mapping.tax_id(txi, self._now())])

    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> ActionResult:
        """A Checkout Session in payment mode: Stripe hosts the page and takes the card."""
        if amount <= 0:
            raise InvalidRequest("A payment request must be for more than zero.")
        done = f"{settings.BASE_URL}/"
        session = self.api.create(
            "checkout.sessions",
            {
                "mode": "payment",
                "customer": customer_id,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "product_data": {"name": description or "Payment"},
                        },
                    }
                ],
                "payment_intent_data": {"description": description} if description else {},
                "success_url": done,
                "cancel_url": done,
                "metadata": {IDEMPOTENCY_METADATA: idempotency_key},
            },
            idempotency_key=idempotency_key,
        )
        return self._result([], url=str(session.get("url") or ""))

    def card_update_start(self, *, customer_id: str, return_url: str) -> ActionResult:
        """Checkout in setup mode: the card is typed on Stripe's page, never on ours; the
        ``checkout.session.completed`` webhook then makes it the default card."""
        session = self.api.create(
            "checkout.sessions",
            {
                "mode": "setup",
                "customer": customer_id,
                "payment_method_types": ["card"],
                "success_url": return_url,
                "cancel_url": return_url,
                "setup_intent_data": {"metadata": {"billingdesk_customer": customer_id}},
            },
            # Each start is a new session; a key still guards against the SDK's retries.
            idempotency_key=f"card-update-{uuid.uuid4()}",
        )
        return self._result([], url=str(session.get("url") or ""))
