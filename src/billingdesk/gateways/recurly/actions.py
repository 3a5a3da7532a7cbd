"""Agent actions on a Recurly site (the connector's write side), through the official client.

Refunds are invoice-based at Recurly: a payment (a purchase transaction) is refunded by
refunding the charge invoice it paid (``refund_invoice``, by amount or by line items), which
makes a credit invoice and a refund transaction back to the card (``transaction_first``).
Cancelling at period end is ``cancel_subscription`` (``timeframe=term_end``: it stays active
until the term ends, and ``reactivate_subscription`` undoes it); cancelling now is
``terminate_subscription`` with ``refund=none`` (``subscription_terminate`` also offers
``partial`` and ``full``). Coupons are redeemed on the account (Recurly applies an account's
redemption to its subscriptions' invoices); the tax id is the account's one ``vat_number``; a
payment request is a manual-collection invoice of one line item, paid on Recurly's hosted
invoice page; a card update is Recurly's hosted billing-info page.

Every write carries the caller's idempotency key as Recurly's ``Idempotency-Key`` header, so
a retry is answered with the first answer and never acts twice. Reads are retried with
backoff on operational errors; writes are not retried here.

Recurly has no call that emails an invoice (Recurly sends invoice emails itself, per the
site's settings): ``SEND_INVOICE`` is not declared. The hosted page URLs need the site's
subdomain, entered with the credentials.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from billingdesk.core.money import Money
from billingdesk.gateways.interface import (
    ActionResult,
    Connector,
    GatewayObject,
    GwCharge,
    GwCustomer,
    ObjectKind,
)
from billingdesk.gateways.recurly import client, mapping

# The tax-id types a Recurly account's ``vat_number`` can hold.
VAT_TYPES = ("eu_vat", "gb_vat", "ch_vat", "no_vat")
TERMINATE_REFUNDS = ("none", "partial", "full")
# How many billing periods a pause lasts at Recurly (it takes a number; resuming ends it
# earlier). A year of monthly periods: in practice "until resumed".
PAUSE_CYCLES = 12


class RecurlyActions(Connector):
    """The client of one account, and the actions run through it."""

    # How often a read is retried on an operational error (429, 5xx, timeout).
    read_retries = 2
    timeout: float = client.DEFAULT_TIMEOUT
    _plan_table: dict[str, dict[str, Any]] | None = None

    @cached_property
    def api(self) -> client.RecurlyApi:
        return client.RecurlyApi(self.account.credentials or {}, timeout=self.timeout)

    @staticmethod
    def _now() -> datetime:
        return timezone.now().replace(microsecond=0)

    def _read(self, method: str, *args: Any, **options: Any) -> Any:
        return self.api.call(method, *args, retries=self.read_retries, **options)

    def _write(self, method: str, *args: Any, key: str, **options: Any) -> Any:
        return self.api.call(method, *args, idempotency_key=key, **options)

    def check_credentials(self) -> None:
        """``GET /sites``: needs a valid key in the right region; when a subdomain is given,
        the key must reach that site."""
        sites = self.api.page("list_sites", params={"limit": 200}, retries=0)
        subdomain = str((self.account.credentials or {}).get("subdomain") or "").strip().lower()
        if subdomain and subdomain not in {str(s.get("subdomain")) for s in sites["data"]}:
            raise InvalidRequest(
                f"This Recurly API key does not reach the site {subdomain!r}: check the "
                "subdomain (the first part of your Recurly admin address)."
            )

    # --- reading back ------------------------------------------------------------------------
    def _result(self, objects: Iterable[GatewayObject], url: str = "") -> ActionResult:
        return ActionResult(objects=list(objects), url=url)

    def _plans(self) -> dict[str, dict[str, Any]]:
        """Every plan by code (its interval), read once for this connector."""
        if self._plan_table is None:
            plans = self._listing("list_plans", params={"limit": client.MAX_LIMIT})
            self._plan_table = {str(p.get("code")): p for p in plans}
        return self._plan_table

    def _listing(self, method: str, *args: Any, params: Mapping[str, Any]) -> list[Any]:
        """Every item of a listing, page after page (Recurly's ``next`` links)."""
        page = self.api.page(method, *args, params=params, retries=self.read_retries)
        items = list(page["data"])
        while page.get("has_more") and page.get("next"):
            page = self.api.follow(str(page["next"]), retries=self.read_retries)
            items.extend(page["data"])
        return items

    def _refunded(self, purchases: list[Mapping[str, Any]]) -> dict[str, int]:
        """Minor units refunded per purchase, for the purchases Recurly flags ``refunded``
        (it gives a purchase that flag, not an amount), from the refund transactions.

        A refund is made after its purchase and makes the purchase's ``updated_at``, so the
        refunds of these purchases were all created between the earliest purchase's
        ``created_at`` and the latest ``updated_at``: one site-wide listing of that window
        (``type=refund``), or one listing per account when the window holds more pages than
        there are accounts (a HEAD request tells)."""
        flagged = [p for p in purchases if p.get("refunded")]
        if not flagged:
            return {}
        accounts = sorted({str((p.get("account") or {}).get("id")) for p in flagged} - {"None"})
        window = {
            "type": "refund",
            "sort": "created_at",
            "order": "asc",
            "begin_time": min(str(p.get("created_at")) for p in flagged),
            "end_time": max(str(p.get("updated_at")) for p in flagged),
            "limit": client.MAX_LIMIT,
        }
        total = self.api.count("list_transactions", params=window) if len(accounts) > 1 else None
        refunds: list[Mapping[str, Any]] = []
        if total is not None and -(-total // client.MAX_LIMIT) <= len(accounts):
            refunds = self._listing("list_transactions", params=window)
        else:
            for account_id in accounts:
                refunds += self._listing(
                    "list_account_transactions",
                    account_id,
                    params={"type": "refund", "limit": client.MAX_LIMIT},
                )
        wanted = {str(p["id"]) for p in flagged}
        return {k: v for k, v in mapping.refunded_amounts(refunds).items() if k in wanted}

    def _charge_objects(self, txn: Mapping[str, Any]) -> list[GatewayObject]:
        obj = mapping.transaction(txn, self._now(), self._refunded([txn]))
        return [obj] if obj is not None else []

    def _charge(self, charge_id: str) -> tuple[dict[str, Any], GwCharge]:
        txn = self._read("get_transaction", charge_id)
        objects = self._charge_objects(txn)
        charge = next((o for o in objects if isinstance(o, GwCharge)), None)
        if charge is None:
            raise NotAllowed(
                f"This Recurly transaction is a {txn.get('type')}, not a payment: "
                "it cannot be refunded."
            )
        return txn, charge

    def _subscription_objects(self, sub: Mapping[str, Any]) -> list[GatewayObject]:
        return mapping.subscription_bundle(sub, self._now(), self._plans())

    def object_fetch(self, *, kind: ObjectKind, object_id: str) -> list[GatewayObject]:
        now = self._now()
        if kind is ObjectKind.CUSTOMER:
            return mapping.customer_bundle(self._read("get_account", object_id), now)
        if kind is ObjectKind.SUBSCRIPTION:
            return self._subscription_objects(self._read("get_subscription", object_id))
        if kind is ObjectKind.INVOICE:
            return [mapping.invoice(self._read("get_invoice", object_id), now)]
        if kind in (ObjectKind.CHARGE, ObjectKind.REFUND):
            return self._charge_objects(self._read("get_transaction", object_id))
        if kind is ObjectKind.COUPON:
            currency = self.account.default_currency or ""
            return [mapping.coupon(self._read("get_coupon", f"code-{object_id}"), now, currency)]
        return []

    # --- refunds -------------------------------------------------------------------------------
    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        """Refund ``amount`` of the invoice this payment paid (None: all that is left)."""
        if amount is not None and amount <= 0:
            raise InvalidRequest("A refund amount must be more than zero.")
        txn, charge = self._charge(charge_id)
        invoice_id = charge.invoice_id
        if invoice_id is None or txn.get("status") != "success":
            raise NotAllowed("Only a successful payment of a charge invoice can be refunded.")
        body: dict[str, Any] = {"type": "amount", "refund_method": "transaction_first"}
        if amount is not None:
            body["amount"] = mapping.wire_amount(amount, charge.currency)
        if reason:
            body["credit_customer_notes"] = reason[:2000]
        return self._refund(charge, invoice_id, body, idempotency_key, amount)

    def refund_line_items(
        self,
        *,
        invoice_id: str,
        line_items: Mapping[str, int],
        reason: str,
        idempotency_key: str,
    ) -> ActionResult:
        """Refund quantities of a charge invoice's line items (``{line item id: quantity}``)."""
        if not line_items or any(q <= 0 for q in line_items.values()):
            raise InvalidRequest("Name at least one line item and a quantity above zero.")
        inv = self._read("get_invoice", invoice_id)
        paying = mapping.invoice(inv, self._now()).charge_id
        if paying is None:
            raise NotAllowed("This invoice has no successful payment to refund.")
        _, charge = self._charge(paying)
        body: dict[str, Any] = {
            "type": "line_items",
            "refund_method": "transaction_first",
            "line_items": [
                {"id": ident, "quantity": quantity, "prorate": False}
                for ident, quantity in line_items.items()
            ],
        }
        if reason:
            body["credit_customer_notes"] = reason[:2000]
        return self._refund(charge, str(inv["id"]), body, idempotency_key, None)

    def _refund(
        self,
        charge: GwCharge,
        invoice_id: str,
        body: dict[str, Any],
        key: str,
        amount: int | None,
    ) -> ActionResult:
        try:
            credit = self._write("refund_invoice", invoice_id, body=body, key=key)
        except AmountTooLarge:
            left = mapping.minor(
                self._read("get_invoice", invoice_id).get("refundable_amount"), charge.currency
            )
            if left <= 0:
                raise AmountTooLarge("This payment has already been refunded in full.") from None
            asked = f"{Money(amount, charge.currency)}" if amount is not None else "that much"
            raise AmountTooLarge(
                f"Cannot refund {asked}: only {Money(left, charge.currency)} of this "
                "invoice is left to refund."
            ) from None
        now = self._now()
        objects: list[GatewayObject] = [mapping.invoice(credit, now)]
        for txn in credit.get("transactions") or []:
            obj = mapping.transaction(txn, now, {})
            if obj is not None:
                objects.append(obj)
        _, fresh = self._charge(charge.id)
        objects.append(fresh)
        return self._result(objects)

    def credit_invoice_preview(self, *, charge_id: str, amount: int | None) -> list[str]:
        """What a refund of this payment will make at Recurly: the credit invoice, in words."""
        _, charge = self._charge(charge_id)
        if charge.invoice_id is None:
            return []
        inv = self._read("get_invoice", charge.invoice_id)
        left = mapping.minor(inv.get("refundable_amount"), charge.currency)
        refund = left if amount is None else amount
        card = f"{charge.card_brand} •••• {charge.card_last4}" if charge.card_last4 else "the card"
        return credit_invoice_lines(
            str(inv.get("number") or ""), refund, left, charge.currency, card
        )

    # --- invoices --------------------------------------------------------------------------------
    def invoice_void(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        """Void an invoice nobody has paid yet (pending or past due)."""
        inv = self._read("get_invoice", invoice_id)
        if inv.get("state") == "voided":
            return self._result([mapping.invoice(inv, self._now())])
        if inv.get("state") not in mapping.OPEN_INVOICE_STATES:
            raise NotAllowed(
                f"A {inv.get('state')} invoice cannot be voided: only an unpaid one can"
                + (" (refund a paid one instead)." if inv.get("state") == "paid" else ".")
            )
        voided = self._write("void_invoice", invoice_id, key=idempotency_key)
        return self._result([mapping.invoice(voided, self._now())])

    # --- subscriptions -------------------------------------------------------------------------
    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        if not at_period_end:
            return self.subscription_terminate(
                subscription_id=subscription_id, refund="none", idempotency_key=idempotency_key
            )
        sub = self._read("get_subscription", subscription_id)
        if sub.get("state") in ("canceled", "expired"):
            return self._result(self._subscription_objects(sub))
        sub = self._write(
            "cancel_subscription",
            subscription_id,
            body={"timeframe": "term_end"},
            key=idempotency_key,
        )
        return self._result(self._subscription_objects(sub))

    def subscription_terminate(
        self, *, subscription_id: str, refund: str, idempotency_key: str
    ) -> ActionResult:
        """End a subscription now; ``refund``: ``none``, ``partial`` (the unused time of the
        current period, prorated) or ``full`` (the last paid invoice)."""
        if refund not in TERMINATE_REFUNDS:
            raise InvalidRequest("refund must be none, partial or full.")
        sub = self._read("get_subscription", subscription_id)
        if sub.get("state") == "expired":
            return self._result(self._subscription_objects(sub))
        sub = self._write(
            "terminate_subscription",
            subscription_id,
            params={"refund": refund, "charge": False},
            key=idempotency_key,
        )
        return self._result(self._subscription_objects(sub))

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """``PUT /subscriptions/{id}/pause``. Recurly pauses at the next renewal (the
        subscription stays active until then, ``paused_at`` set) for ``PAUSE_CYCLES``
        billing periods, after which it resumes by itself unless resumed earlier."""
        sub = self._read("get_subscription", subscription_id)
        if sub.get("state") == "paused" or sub.get("paused_at"):
            return self._result(self._subscription_objects(sub))
        if sub.get("state") != "active":
            raise NotAllowed(
                f"A {sub.get('state')} subscription cannot be paused: only an active one can."
            )
        sub = self._write(
            "pause_subscription",
            subscription_id,
            {"remaining_pause_cycles": PAUSE_CYCLES},
            key=idempotency_key,
        )
        return self._result(self._subscription_objects(sub))

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """``PUT /subscriptions/{id}/resume``: a paused subscription renews again now, and a
        scheduled pause is called off."""
        sub = self._read("get_subscription", subscription_id)
        if sub.get("state") == "active" and not sub.get("paused_at"):
            return self._result(self._subscription_objects(sub))
        if sub.get("state") not in ("paused", "active"):
            raise NotAllowed(
                f"A {sub.get('state')} subscription cannot be resumed: only a paused one can."
            )
        sub = self._write("resume_subscription", subscription_id, key=idempotency_key)
        return self._result(self._subscription_objects(sub))

    def subscription_reactivate(
        self, *, subscription_id: str, idempotency_key: str
    ) -> ActionResult:
        """Undo a cancellation at term end while the subscription is still active."""
        sub = self._read("get_subscription", subscription_id)
        if sub.get("state") == "active":
            return self._result(self._subscription_objects(sub))
        if sub.get("state") != "canceled":
            raise NotAllowed(
                f"A {sub.get('state')} subscription cannot be reactivated: only one canceled "
                "at term end and not yet expired can."
            )
        sub = self._write("reactivate_subscription", subscription_id, key=idempotency_key)
        return self._result(self._subscription_objects(sub))

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
        """A subscription billed to the account's billing info (its first invoice is
        collected at once, so a decline is refused here)."""
        if quantity < 1:
            raise InvalidRequest("The quantity must be at least 1.")
        account = self._read("get_account", customer_id)
        currency = self._plan_currency(plan)
        body: dict[str, Any] = {
            "plan_code": plan,
            "currency": currency,
            "account": {"code": account["code"]},
            "quantity": quantity,
        }
        if coupon_id:
            body["coupon_codes"] = [coupon_id]
        if trial_days:
            # Whole days (midnight UTC), so a retry of this request sends the same body.
            today = self._now().replace(hour=0, minute=0, second=0)
            body["trial_ends_at"] = (today + timedelta(days=trial_days + 1)).isoformat()
        sub = self._write("create_subscription", body=body, key=idempotency_key)
        return self._result(self._subscription_objects(sub))

    def _plan_currency(self, code: str) -> str:
        plan = self._plans().get(code)
        if plan is None:
            raise InvalidRequest(f"Recurly has no plan with the code {code!r}.")
        prices = [str(c.get("currency")) for c in plan.get("currencies") or []]
        wanted = self.account.default_currency or ""
        if wanted in prices:
            return wanted
        if not prices:
            raise InvalidRequest(f"The plan {code!r} has no price.")
        return prices[0]

    # --- coupons, tax ids ------------------------------------------------------------------------
    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        """Redeem a coupon on the account (the subscription's account when one is named):
        Recurly applies it to the account's next invoices."""
        if subscription_id:
            sub = self._read("get_subscription", subscription_id)
            customer_id = str((sub.get("account") or {}).get("id") or "") or customer_id
        if not customer_id:
            raise InvalidRequest("Say which customer or subscription the coupon is for.")
        now = self._now()
        try:
            redemption = self._write(
                "create_coupon_redemption",
                customer_id,
                {
                    "coupon_id": f"code-{coupon_id}",
                    "currency": self.account.default_currency or None,
                },
                key=idempotency_key,
            )
        except InvalidRequest as exc:
            if "already been redeemed" not in exc.message:
                raise
            page = self.api.page(
                "list_active_coupon_redemptions",
                customer_id,
                params={"limit": client.MAX_LIMIT},
                retries=self.read_retries,
            )
            found = [r for r in page["data"] if (r.get("coupon") or {}).get("code") == coupon_id]
            if not found:
                raise
            redemption = found[0]
        return self._result(
            [
                mapping.discount(
                    redemption, now, account_id=customer_id, subscription_id=subscription_id
                )
            ]
        )

    def tax_id_add(
        self, *, customer_id: str, tax_type: str, value: str, idempotency_key: str
    ) -> ActionResult:
        """Set the account's VAT number (Recurly keeps one per account, replaced)."""
        if tax_type not in VAT_TYPES:
            raise InvalidRequest(
                "Recurly keeps a VAT number on the account: only VAT numbers "
                f"({', '.join(VAT_TYPES)}) can be added, not {tax_type!r}."
            )
        if not value.strip():
            raise InvalidRequest("A VAT number cannot be empty.")
        account = self._write(
            "update_account", customer_id, {"vat_number": value.strip()}, key=idempotency_key
        )
        return self._result(mapping.customer_bundle(account, self._now()))

    # --- hosted pages ----------------------------------------------------------------------------
    def _hosted(self, path: str) -> str:
        subdomain = str((self.account.credentials or {}).get("subdomain") or "").strip().lower()
        if not subdomain:
            raise NotAllowed(
                "Recurly's hosted pages need the site's subdomain: add it to this gateway's "
                "credentials."
            )
        region = ".eu" if self.api.region == "eu" else ""
        return f"https://{subdomain}{region}.recurly.com{path}"

    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> ActionResult:
        """A manual-collection invoice of one line item; ``url`` is its hosted page."""
        if amount <= 0:
            raise InvalidRequest("A payment request must be for more than zero.")
        currency = currency.upper()
        account = self._read("get_account", customer_id)
        self._write(
            "create_line_item",
            customer_id,
            {
                "currency": currency,
                "unit_amount": mapping.wire_amount(amount, currency),
                "description": description[:255] or "Payment request",
                "type": "charge",
            },
            key=f"{idempotency_key}:line",
        )
        collection = self._write(
            "create_invoice",
            customer_id,
            {"currency": currency, "collection_method": "manual"},
            key=f"{idempotency_key}:invoice",
        )
        inv = collection.get("charge_invoice") or {}
        url = self._hosted(
            f"/account/invoices/{inv.get('number')}?ht={account.get('hosted_login_token')}"
        )
        return self._result([mapping.invoice(inv, self._now())], url=url)

    def card_update_start(self, *, customer_id: str, return_url: str) -> ActionResult:
        """Recurly's hosted billing-info page of the account (its hosted login token)."""
        account = self._read("get_account", customer_id)
        token = account.get("hosted_login_token")
        if not token:
            raise NotFound("This Recurly account has no hosted login token.")
        url = self._hosted(f"/account/billing_info/edit?ht={token}")
        customer = next(
            o for o in mapping.customer_bundle(account, self._now()) if isinstance(o, GwCustomer)
        )
        return self._result([customer], url=url)


def credit_invoice_lines(
    number: str, refund: int, left: int, currency: str, card: str
) -> list[str]:
    """The credit invoice a refund of ``refund`` (of ``left`` refundable) will make."""
    return [
        f"Recurly will issue a credit invoice of {Money(refund, currency)} against "
        f"invoice #{number}, and refund {Money(refund, currency)} to {card}.",
        f"{Money(max(left - refund, 0), currency)} of invoice #{number} will remain refundable.",
    ]
