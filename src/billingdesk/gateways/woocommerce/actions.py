"""Agent actions on a WooCommerce shop (the connector's write side), over the REST API.

WooCommerce has no idempotency keys: what an action creates carries the caller's key in its
``meta_data`` (``_billingdesk_idempotency_key``), and a retry looks for it first, so a retry
after a lost answer returns the first result instead of acting twice. Writes are never
retried blindly; reads are retried with backoff on operational errors.

* **Refund**: ``POST /orders/<id>/refunds`` with ``api_refund: true``, so WooCommerce asks the
  order's payment plugin to move the money (with ``false`` it would only record a refund).
  Before that the order's payment method is read (``GET /payment_gateways/<id>``): a plugin
  whose ``method_supports`` lacks ``refunds`` cannot refund automatically, and the agent is
  told so instead of a refund being recorded that moved nothing. ``refund_line_items``
  refunds given line items (quantities, amounts, restock).
* **Subscriptions** (the WooCommerce Subscriptions extension, detected: without it the API
  has no ``/subscriptions`` route): cancel now (``cancelled``) or at the end of the term
  (``pending-cancel``), apply a coupon (``coupon_lines``).
* **Payment request**: a pending order with one fee line, whose ``payment_url`` (the shop's
  "pay for order" page) is the link sent to the customer.

What WooCommerce cannot do through its API is not declared: captures and voids (that is the
payment plugin's business), invoices, tax ids, card updates (the plugin's "My Account"
page). Docs: https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-refund.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote

from django.utils import timezone

from billingdesk.core.errors import (
    AmountTooLarge,
    BillingdeskError,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from billingdesk.gateways.interface import (
    ActionResult,
    ChargeStatus,
    Connector,
    GatewayObject,
    GwCharge,
    GwRefund,
    ObjectKind,
)
from billingdesk.gateways.woocommerce import client, mapping
from billingdesk.gateways.woocommerce.mapping import IDEMPOTENCY_META

_REFUNDABLE = frozenset(
    {ChargeStatus.CAPTURED, ChargeStatus.PARTIALLY_REFUNDED, ChargeStatus.REFUNDED}
)
# The statuses an agent may set (``refunded`` only comes from a refund).
_ORDER_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "failed"}
)
NO_SUBSCRIPTIONS = (
    "This shop has no WooCommerce Subscriptions extension (its API has no /subscriptions)."
)


def _seg(value: object) -> str:
    """An id as one path segment (never a way to another route)."""
    return quote(str(value), safe="")


class WooCommerceActions(Connector):
    """The shop's REST API, and the actions run through it."""

    read_retries = 2
    timeout: tuple[float, float] = client.DEFAULT_TIMEOUT

    @cached_property
    def api(self) -> client.WooApi:
        return client.WooApi(
            self.account.credentials or {}, timeout=self.timeout, read_retries=self.read_retries
        )

    @staticmethod
    def _now() -> datetime:
        return timezone.now().replace(microsecond=0)

    def check_credentials(self) -> None:
        """``GET /system_status``-free check: one customer, which needs a valid key pair."""
        self.api.request("GET", "/customers", params={"per_page": 1})

    # --- reads ---------------------------------------------------------------------------
    def _get(self, path: str, **params: Any) -> Any:
        return self.api.request("GET", path, params=params).data

    def _order(self, order_id: str) -> dict[str, Any]:
        data = self._get(f"/orders/{_seg(order_id)}")
        if not isinstance(data, dict):
            raise NotFound(f"WooCommerce has no order {order_id}.")
        return data

    def _charge_of(self, order: Mapping[str, Any]) -> tuple[GwCharge, list[GatewayObject]]:
        bundle = mapping.order_bundle(order, self._now())
        charge = next((o for o in bundle if isinstance(o, GwCharge)), None)
        if charge is None:
            raise NotAllowed("This order is a checkout that was never placed: nothing was paid.")
        return charge, bundle

    def object_fetch(self, *, kind: ObjectKind, object_id: str) -> list[GatewayObject]:
        fetched = self._now()
        objects: list[GatewayObject]
        if kind is ObjectKind.CUSTOMER:
            objects = [mapping.customer(self._get(f"/customers/{_seg(object_id)}"), fetched)]
        elif kind is ObjectKind.CHARGE:
            objects = mapping.order_bundle(self._order(object_id), fetched)
        elif kind is ObjectKind.COUPON:
            currency = self.account.default_currency or ""
            objects = [mapping.coupon(self._get(f"/coupons/{_seg(object_id)}"), currency, fetched)]
        elif kind is ObjectKind.SUBSCRIPTION:
            objects = [mapping.subscription(self._subscription(object_id), fetched)]
        else:
            return []
        # Versioned at the read: the shop's current state wins over any delivered one.
        return [replace(o, updated=fetched) for o in objects]

    # --- refunds -------------------------------------------------------------------------
    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        return self._refund(charge_id, amount, reason, idempotency_key, lines=None, restock=False)

    def refund_line_items(
        self,
        *,
        charge_id: str,
        lines: Sequence[Mapping[str, Any]],
        reason: str,
        idempotency_key: str,
        restock: bool = False,
    ) -> ActionResult:
        """Refund given line items: each ``{"id": <line item id>, "quantity": n,
        "amount": <minor units>}``; the refund is their sum, and with ``restock`` WooCommerce
        puts the quantities back in stock."""
        if not lines:
            raise InvalidRequest("Choose at least one line item to refund.")
        return self._refund(charge_id, None, reason, idempotency_key, lines=lines, restock=restock)

    def refund_preview(self, *, charge_id: str) -> list[str]:
        automatic, title = self.refund_support(self._order(charge_id))
        if automatic:
            return [
                f"WooCommerce asks the order's payment method ({title}) to send the money back."
            ]
        return [
            f"The order's payment method ({title}) cannot refund automatically: WooCommerce "
            "will refuse. Refund it with the payment provider instead."
        ]

    def refund_support(self, order: Mapping[str, Any]) -> tuple[bool, str]:
        """Whether the order's payment method refunds automatically, and its title."""
        method = str(order.get("payment_method") or "")
        title = str(order.get("payment_method_title") or method or "no payment method")
        if not method:
            return False, title
        try:
            plugin = self._get(f"/payment_gateways/{_seg(method)}")
        except NotFound:
            return False, title
        supports = plugin.get("method_supports") if isinstance(plugin, dict) else None
        return isinstance(supports, list) and "refunds" in supports, title

    def _refund(
        self,
        charge_id: str,
        amount: int | None,
        reason: str,
        idempotency_key: str,
        *,
        lines: Sequence[Mapping[str, Any]] | None,
        restock: bool,
    ) -> ActionResult:
        order = self._order(charge_id)
        charge, _ = self._charge_of(order)
        if charge.status not in _REFUNDABLE:
            raise NotAllowed(
                f"This order is {order.get('status')} and was not paid: there is nothing to refund."
            )
        replay = self._replayed_refund(charge_id, charge.currency, idempotency_key)
        if replay is not None:
            return replay
        currency = charge.currency
        body_lines: list[dict[str, Any]] = []
        if lines is not None:
            known = {str(i.get("id")) for i in order.get("line_items") or []}
            for line in lines:
                if str(line.get("id")) not in known:
                    raise InvalidRequest(f"This order has no line item {line.get('id')!r}.")
                line_amount = int(line.get("amount") or 0)
                if line_amount <= 0:
                    raise InvalidRequest("A refunded line item needs an amount above zero.")
                body_lines.append(
                    {
                        "id": int(str(line["id"])),
                        "quantity": int(line.get("quantity") or 0),
                        "refund_total": mapping.decimal_text(line_amount, currency),
                    }
                )
            amount = sum(int(line.get("amount") or 0) for line in lines)
        remaining = charge.amount_captured - charge.amount_refunded
        if remaining <= 0:
            raise AmountTooLarge("This order has already been refunded in full.")
        if amount is None:
            amount = remaining
        if amount <= 0:
            raise InvalidRequest("A refund amount must be more than zero.")
        if amount > remaining:
            raise AmountTooLarge(
                f"At most {mapping.decimal_text(remaining, currency)} {currency} of this order "
                "can still be refunded."
            )
        automatic, title = self.refund_support(order)
        if not automatic:
            raise NotAllowed(
                f"The shop's payment method ({title}) cannot refund automatically through "
                "WooCommerce: refund it with the payment provider, then record the refund in "
                "WooCommerce."
            )
        body: dict[str, Any] = {
            "amount": mapping.decimal_text(amount, currency),
            "reason": reason,
            "api_refund": True,
            "api_restock": restock,
            "meta_data": [{"key": IDEMPOTENCY_META, "value": idempotency_key}],
        }
        if body_lines:
            body["line_items"] = body_lines
        try:
            created = self.api.request("POST", f"/orders/{_seg(charge_id)}/refunds", json=body).data
        except InvalidRequest as exc:
            raise self._refund_refusal(exc) from None
        refund = mapping.refund(created, charge_id, currency, self._now())
        return ActionResult(objects=[refund, *self._fresh_order(charge_id, refund)])

    def _fresh_order(self, order_id: str, refund: GwRefund) -> list[GatewayObject]:
        """The order as it is after a refund (the refund itself is already mapped)."""
        try:
            bundle = mapping.order_bundle(self._order(order_id), self._now())
        except BillingdeskError:
            return []  # the refund happened; the mirror catches up with the next event
        return [o for o in bundle if not (isinstance(o, GwRefund) and o.id == refund.id)]

    @staticmethod
    def _refund_refusal(exc: InvalidRequest) -> BillingdeskError:
        text = exc.message.removeprefix("WooCommerce refused: ")
        if "invalid refund amount" in text.lower():
            return AmountTooLarge("WooCommerce refused the amount: more than can be refunded.")
        if exc.code == "woocommerce_rest_cannot_create_order_refund":
            # The payment plugin refused (declined, too old…): its words, for the agent.
            return NotAllowed(f"The payment provider did not refund: {text}")
        return exc

    def _replayed_refund(self, order_id: str, currency: str, key: str) -> ActionResult | None:
        refunds = self._get(f"/orders/{_seg(order_id)}/refunds", per_page=100)
        for item in refunds if isinstance(refunds, list) else []:
            if mapping.meta(item, IDEMPOTENCY_META) == key:
                refund = mapping.refund(item, order_id, currency, self._now())
                return ActionResult(objects=[refund, *self._fresh_order(order_id, refund)])
        return None

    # --- subscriptions -------------------------------------------------------------------
    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        try:
            data = self._get(f"/subscriptions/{_seg(subscription_id)}")
        except NotFound as exc:
            if exc.code == "no_route":
                raise NotAllowed(NO_SUBSCRIPTIONS) from None
            raise
        return dict(data)

    def _subscription_put(self, subscription_id: str, body: dict[str, Any]) -> ActionResult:
        try:
            data = self.api.request(
                "PUT", f"/subscriptions/{_seg(subscription_id)}", json=body
            ).data
        except NotFound as exc:
            if exc.code == "no_route":
                raise NotAllowed(NO_SUBSCRIPTIONS) from None
            raise
        return ActionResult(objects=[mapping.subscription(data, self._now())])

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        current = self._subscription(subscription_id)
        status = str(current.get("status") or "")
        wanted = "pending-cancel" if at_period_end else "cancelled"
        if status in ("cancelled", "expired") or status == wanted:
            # Already done (a retry, or someone was quicker): nothing to change.
            return ActionResult(objects=[mapping.subscription(current, self._now())])
        if at_period_end and status != "active":
            raise NotAllowed(
                f"Only an active subscription can be cancelled at the end of its term; this one "
                f"is {status}."
            )
        return self._subscription_put(subscription_id, {"status": wanted})

    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        if not subscription_id:
            raise NotAllowed(
                "WooCommerce applies coupons to orders and subscriptions, not to a customer: "
                "choose a subscription."
            )
        code = str(self._get(f"/coupons/{_seg(coupon_id)}").get("code") or "")
        current = self._subscription(subscription_id)
        lines = current.get("coupon_lines") or []
        if any(str(line.get("code", "")).lower() == code.lower() for line in lines):
            return ActionResult(objects=[mapping.subscription(current, self._now())])
        kept = [{"id": line["id"]} for line in lines if "id" in line]
        return self._subscription_put(subscription_id, {"coupon_lines": [*kept, {"code": code}]})

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Put an active subscription on hold (no renewals until it is resumed)."""
        current = self._subscription(subscription_id)
        status = str(current.get("status") or "")
        if status == "on-hold":
            return ActionResult(objects=[mapping.subscription(current, self._now())])
        if status != "active":
            raise NotAllowed(
                f"Only an active subscription can be put on hold; this one is {status}."
            )
        return self._subscription_put(subscription_id, {"status": "on-hold"})

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        """Take a subscription off hold: ``active`` again, renewing as before."""
        current = self._subscription(subscription_id)
        status = str(current.get("status") or "")
        if status == "active":
            return ActionResult(objects=[mapping.subscription(current, self._now())])
        if status != "on-hold":
            raise NotAllowed(f"Only a subscription on hold can be resumed; this one is {status}.")
        return self._subscription_put(subscription_id, {"status": "active"})

    # --- orders ----------------------------------------------------------------------------
    def order_note_send(self, *, order_id: str, note: str, idempotency_key: str) -> ActionResult:
        """Add a note to the customer on an order: WooCommerce emails it to them (its
        "Customer note" email) and shows it in their account."""
        text = (note or "").strip()
        if not text:
            raise InvalidRequest("Write the note to send to the customer.")
        order = self._order(order_id)
        body = {"note": text, "customer_note": True}
        self.api.request("POST", f"/orders/{_seg(order_id)}/notes", json=body)
        return ActionResult(objects=mapping.order_bundle(order, self._now()))

    def order_status_set(self, *, order_id: str, status: str, idempotency_key: str) -> ActionResult:
        """Move an order to another status (``completed``, ``on-hold``, ``cancelled``…);
        refunds go through ``refund_create``, never a status."""
        if status not in _ORDER_STATUSES:
            raise InvalidRequest(
                f"{status!r} is not an order status; use one of "
                f"{', '.join(sorted(_ORDER_STATUSES))}."
            )
        order = self._order(order_id)
        if order.get("status") == status:
            return ActionResult(objects=mapping.order_bundle(order, self._now()))
        data = self.api.request("PUT", f"/orders/{_seg(order_id)}", json={"status": status}).data
        return ActionResult(objects=mapping.order_bundle(data, self._now()))

    # --- payment requests ------------------------------------------------------------------
    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> ActionResult:
        if amount <= 0:
            raise InvalidRequest("A payment request needs an amount above zero.")
        if not str(customer_id).isdigit():
            raise NotFound(f"WooCommerce has no customer {customer_id!r}.")
        pending = self._get(
            "/orders", customer=customer_id, status="pending", per_page=50, orderby="id"
        )
        for order in pending if isinstance(pending, list) else []:
            if mapping.meta(order, IDEMPOTENCY_META) == idempotency_key:
                return self._payment_result(order)
        body = {
            "status": "pending",
            "customer_id": int(customer_id),
            "currency": currency.upper(),
            "fee_lines": [
                {
                    "name": description or "Payment request",
                    "total": mapping.decimal_text(amount, currency),
                }
            ],
            "meta_data": [{"key": IDEMPOTENCY_META, "value": idempotency_key}],
        }
        return self._payment_result(self.api.request("POST", "/orders", json=body).data)

    def _payment_result(self, order: Mapping[str, Any]) -> ActionResult:
        url = str(order.get("payment_url") or "")
        if not url:
            raise NotAllowed("WooCommerce gave this order no payment page.")
        return ActionResult(objects=mapping.order_bundle(order, self._now()), url=url)
