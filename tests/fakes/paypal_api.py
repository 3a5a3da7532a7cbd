"""A fake PayPal REST API (v1/v2) over real HTTP, for the PayPal connector's tests.

Started as a server on 127.0.0.1 (port 0); an account whose credentials carry
``api_base=http://127.0.0.1:<port>`` is served here instead of ``api-m.paypal.com``, so the
real connector code (``requests``) is what talks to it. Faithful to PayPal where the connector
depends on it (developer.paypal.com/api/rest, §4 of shared/reference/gateways.md):

* OAuth2 client credentials: ``POST /v1/oauth2/token`` with Basic ``client_id:secret`` and
  ``grant_type=client_credentials`` answers ``{access_token, token_type: Bearer, expires_in}``;
  every other call needs ``Authorization: Bearer <token>``. A wrong secret is 401
  ``invalid_client``; an unknown or expired token 401 ``invalid_token`` (``expire_tokens``
  ages every token out).
* Errors have PayPal's body: ``{name, message, debug_id, details: [{issue, description}],
  links}`` (422 ``UNPROCESSABLE_ENTITY`` with issues ``REFUND_AMOUNT_EXCEEDED``,
  ``CAPTURE_FULLY_REFUNDED``, ``INSTRUMENT_DECLINED``, ``PREVIOUSLY_CAPTURED``,
  ``PREVIOUSLY_VOIDED``, ``AUTHORIZATION_VOIDED``, ``MAX_CAPTURE_AMOUNT_EXCEEDED``,
  ``SUBSCRIPTION_STATUS_INVALID``, ``DECIMAL_PRECISION``; 404 ``RESOURCE_NOT_FOUND``; 429
  ``RATE_LIMIT_REACHED``; 400 ``INVALID_REQUEST``).
* Amounts are decimal strings ``{currency_code, value}`` with the currency's exponent (JPY
  has no decimals: "1.50" JPY is ``DECIMAL_PRECISION``).
* ``PayPal-Request-Id`` on a POST: the same id again is answered with the first answer.
* HATEOAS ``links`` on every object (``self``, ``up``, ``approve``, ``refund``, ``capture``,
  ``void``…); Transaction Search pages with ``page``/``page_size``, ``total_pages`` and a
  ``next`` link, refuses a window over 31 days; disputes page with ``next_page_token``.
* Webhook certificates served at ``/v1/notifications/certs/<name>`` (no auth), the
  postback ``POST /v1/notifications/verify-webhook-signature`` and
  ``GET /v1/notifications/webhooks/<id>``.
* Invoicing v2: ``GET /v2/invoicing/invoices?page=&page_size=&total_required=true`` (pages
  from 1, at most 100 a page; ``total_items``/``total_pages`` only with ``total_required``;
  ``next`` link), ``GET /v2/invoicing/invoices/{id}`` and ``POST .../{id}/send`` (body
  ``send_to_invoicer``, ``send_to_recipient``, ``subject``, ``note``; 200 with ``links``, 202
  for an invoice dated in the future, which becomes ``SCHEDULED``; a sent one is re-sent with
  no change; a paid, refunded or cancelled one is 422 ``UNPROCESSABLE_ENTITY`` with issue
  ``INVALID_INVOICE_STATUS`` — the issue's name is UNCONFIRMED). A merchant without invoicing
  (``Merchant.invoicing = False``) is 403 ``NOT_AUTHORIZED``. ``invoice_event`` builds the
  ``INVOICING.INVOICE.*`` webhook events (the resource is the invoice).
* ``fail_next(status, times)`` answers the next requests with that status and PayPal's body.

Objects are arranged through the Python methods below (what a buyer's checkout would have
made), and read back through the API by the connector.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

JSON = dict[str, Any]
ZERO_DECIMAL = {"JPY", "HUF", "TWD"}  # PayPal's currencies without minor units
MAX_WINDOW = timedelta(days=31)
DECLINING_VAULT_PREFIX = "decline"
PAID_INVOICE = frozenset({"PAID", "MARKED_AS_PAID"})
UNSENDABLE_INVOICE = frozenset(
    {"PAID", "MARKED_AS_PAID", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED", "MARKED_AS_REFUNDED"}
)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def money(value: Decimal | str, currency: str) -> JSON:
    places = 0 if currency in ZERO_DECIMAL else 2
    return {"currency_code": currency, "value": f"{Decimal(value):.{places}f}"}


class ApiError(Exception):
    def __init__(self, status: int, name: str, message: str, issue: str = "", desc: str = ""):
        super().__init__(message)
        self.status, self.name, self.message = status, name, message
        self.issue, self.desc = issue, desc

    def body(self, debug_id: str) -> JSON:
        out: JSON = {"name": self.name, "message": self.message, "debug_id": debug_id}
        if self.issue:
            out["details"] = [{"issue": self.issue, "description": self.desc or self.message}]
            out["links"] = [
                {
                    "href": f"https://developer.paypal.com/docs/api/v2/#error-{self.issue}",
                    "rel": "information_link",
                }
            ]
        return out


def unprocessable(issue: str, desc: str) -> ApiError:
    return ApiError(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
        issue,
        desc,
    )


def not_found(what: str) -> ApiError:
    return ApiError(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        f"Specified resource ID does not exist ({what}).",
    )


def _amount(raw: Any, currency: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, TypeError):
        raise ApiError(
            400, "INVALID_REQUEST", "Request is not well-formed.", "INVALID_PARAMETER_VALUE"
        ) from None
    if currency in ZERO_DECIMAL and value != value.to_integral_value():
        raise unprocessable("DECIMAL_PRECISION", f"{currency} does not support decimals.")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise unprocessable("DECIMAL_PRECISION", "Too many decimal places.")
    if value <= 0:
        raise unprocessable("AMOUNT_MISMATCH", "The amount must be greater than zero.")
    return value


@dataclass
class Merchant:
    client_id: str
    secret: str
    currency: str = "USD"
    webhooks: set[str] = field(default_factory=set)
    tokens: dict[str, datetime] = field(default_factory=dict)
    orders: dict[str, JSON] = field(default_factory=dict)
    captures: dict[str, JSON] = field(default_factory=dict)
    authorizations: dict[str, JSON] = field(default_factory=dict)
    refunds: dict[str, JSON] = field(default_factory=dict)
    plans: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, JSON] = field(default_factory=dict)
    disputes: dict[str, JSON] = field(default_factory=dict)
    vault: dict[str, list[JSON]] = field(default_factory=dict)  # customer id -> tokens
    # Transaction Search rows, in the order they happened: (kind, id).
    history: list[tuple[str, str]] = field(default_factory=list)
    replays: dict[str, tuple[str, int, Any]] = field(default_factory=dict)
    invoices: dict[str, JSON] = field(default_factory=dict)
    invoicing: bool = True  # the merchant uses PayPal Invoicing (else 403 NOT_AUTHORIZED)
    invoice_sends: list[tuple[str, JSON]] = field(default_factory=list)  # (id, body) applied


class PayPalFake:
    """The fake's state and its server. ``with PayPalFake() as fake: fake.url``."""

    token_lifetime = 32400  # seconds, as PayPal's sandbox answers

    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}
        self.certs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.failures: list[tuple[int, str]] = []
        self.search_windows: list[tuple[str, str]] = []  # Transaction Search (start, end)
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._clock = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.postback_answer = "SUCCESS"

    # --- server -------------------------------------------------------------------------
    def __enter__(self) -> PayPalFake:
        owner = self

        class Handler(_Handler):
            fake = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, status: int, times: int = 1, *, path_contains: str = "") -> None:
        with self.lock:
            self.failures.extend([(status, path_contains)] * times)

    def expire_tokens(self) -> None:
        with self.lock:
            for m in self.merchants.values():
                for token in m.tokens:
                    m.tokens[token] = datetime.now(UTC) - timedelta(seconds=1)

    def calls(self, contains: str = "") -> int:
        return sum(1 for _, path in self.requests if contains in path)

    # --- arranging ------------------------------------------------------------------------
    def merchant(self, client_id: str, secret: str, currency: str = "USD") -> Merchant:
        m = Merchant(client_id, secret, currency)
        self.merchants[client_id] = m
        return m

    def add_cert(self, name: str, pem: bytes) -> str:
        self.certs[name] = pem
        return f"{self.url}/v1/notifications/certs/{name}"

    def _id(self, prefix: str, length: int = 17) -> str:
        n = next(self._ids)
        return (prefix + uuid.uuid5(uuid.NAMESPACE_OID, f"{prefix}{n}").hex.upper())[:length]

    def tick(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    def payer(self, email: str, *, given: str = "Pat", surname: str = "Buyer") -> JSON:
        return {
            "payer_id": self._id("P", 13),
            "email_address": email,
            "name": {"given_name": given, "surname": surname},
            "address": {"country_code": "US"},
        }

    def _order(
        self,
        m: Merchant,
        payer: JSON | None,
        amount: Decimal,
        currency: str,
        intent: str,
        status: str,
        description: str = "",
    ) -> JSON:
        at = self.tick()
        order = {
            "id": self._id("5O", 17),
            "intent": intent,
            "status": status,
            "payer": payer,
            "purchase_units": [
                {
                    "reference_id": "default",
                    "amount": money(amount, currency),
                    "description": description,
                    "invoice_id": "",
                    "payments": {"captures": [], "authorizations": [], "refunds": []},
                }
            ],
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.orders[order["id"]] = order
        return order

    def add_payment(
        self,
        m: Merchant,
        *,
        email: str,
        amount: str = "10.00",
        currency: str | None = None,
        payer: JSON | None = None,
        status: str = "COMPLETED",
    ) -> JSON:
        """A buyer's completed checkout: an order with one capture. Returns the capture."""
        currency = currency or m.currency
        payer = payer or self.payer(email)
        order = self._order(m, payer, Decimal(amount), currency, "CAPTURE", "COMPLETED")
        return self._capture(m, order, Decimal(amount), currency, status=status)

    def add_authorization(
        self, m: Merchant, *, email: str, amount: str = "10.00", currency: str | None = None
    ) -> JSON:
        currency = currency or m.currency
        order = self._order(
            m, self.payer(email), Decimal(amount), currency, "AUTHORIZE", "COMPLETED"
        )
        return self._authorize(m, order, Decimal(amount), currency)

    def _authorize(self, m: Merchant, order: JSON, amount: Decimal, currency: str) -> JSON:
        at = self.tick()
        auth = {
            "id": self._id("0A", 17),
            "status": "CREATED",
            "amount": money(amount, currency),
            "captured": "0",
            "order_id": order["id"],
            "expiration_time": iso(at + timedelta(days=29)),
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.authorizations[auth["id"]] = auth
        order["purchase_units"][0]["payments"]["authorizations"].append(auth["id"])
        order["update_time"] = iso(at)
        m.history.append(("authorization", auth["id"]))
        return auth

    def _capture(
        self,
        m: Merchant,
        order: JSON | None,
        amount: Decimal,
        currency: str,
        *,
        status: str = "COMPLETED",
        authorization: str = "",
        subscription: str = "",
    ) -> JSON:
        at = self.tick()
        capture = {
            "id": self._id("3C", 17),
            "status": status,
            "amount": money(amount, currency),
            "final_capture": True,
            "order_id": order["id"] if order else "",
            "authorization_id": authorization,
            "subscription_id": subscription,
            "payer": order["payer"] if order else None,
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.captures[capture["id"]] = capture
        if order is not None:
            order["purchase_units"][0]["payments"]["captures"].append(capture["id"])
            order["update_time"] = iso(at)
        m.history.append(("capture", capture["id"]))
        return capture

    def add_refund(self, m: Merchant, capture: JSON, amount: str | None = None) -> JSON:
        result = self._refund(m, capture, {"amount": {"value": amount}} if amount else {})
        assert isinstance(result, dict)
        return result

    def add_vault_token(
        self, m: Merchant, customer_id: str, *, email: str, declines: bool = False
    ) -> JSON:
        token = {
            "id": (DECLINING_VAULT_PREFIX if declines else "") + self._id("8T", 10).lower(),
            "customer": {"id": customer_id},
            "payment_source": {"paypal": {"email_address": email, "payer_id": customer_id}},
        }
        m.vault.setdefault(customer_id, []).append(token)
        return token

    def add_plan(
        self,
        m: Merchant,
        *,
        name: str,
        price: str,
        currency: str | None = None,
        interval: str = "MONTH",
        count: int = 1,
    ) -> JSON:
        at = self.tick()
        plan = {
            "id": self._id("P-", 26),
            "product_id": self._id("PROD-", 17),
            "name": name,
            "status": "ACTIVE",
            "billing_cycles": [
                {
                    "frequency": {"interval_unit": interval, "interval_count": count},
                    "tenure_type": "REGULAR",
                    "sequence": 1,
                    "total_cycles": 0,
                    "pricing_scheme": {"fixed_price": money(price, currency or m.currency)},
                }
            ],
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.plans[plan["id"]] = plan
        return plan

    def add_subscription(
        self, m: Merchant, plan: JSON, *, email: str, payments: int = 1, payer: JSON | None = None
    ) -> JSON:
        payer = payer or self.payer(email)
        sub = self._subscription(m, {"plan_id": plan["id"]}, payer)
        sub["status"] = "ACTIVE"
        price = plan["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
        for _ in range(payments):
            capture = self._capture(
                m, None, Decimal(price["value"]), price["currency_code"], subscription=sub["id"]
            )
            capture["payer"] = {
                "payer_id": payer["payer_id"],
                "email_address": payer["email_address"],
                "name": payer["name"],
            }
            sub["billing_info"]["last_payment"] = {
                "amount": price,
                "time": capture["create_time"],
            }
        return sub

    def _subscription(self, m: Merchant, body: JSON, payer: JSON | None) -> JSON:
        plan = m.plans.get(str(body.get("plan_id") or ""))
        if plan is None:
            raise unprocessable("INVALID_PARAMETER_VALUE", "The specified plan id is invalid.")
        at = self.tick()
        subscriber = dict(body.get("subscriber") or {})
        if payer is not None:
            subscriber = {
                "email_address": payer["email_address"],
                "payer_id": payer["payer_id"],
                "name": payer["name"],
            }
        sub = {
            "id": self._id("I-", 14),
            "plan_id": plan["id"],
            "status": "APPROVAL_PENDING",
            "quantity": str(body.get("quantity") or "1"),
            "subscriber": subscriber,
            "start_time": iso(at),
            "billing_info": {
                "outstanding_balance": money(
                    "0", plan["billing_cycles"][0]["pricing_scheme"]["fixed_price"]["currency_code"]
                ),
                "next_billing_time": iso(at + timedelta(days=30)),
                "failed_payments_count": 0,
            },
            "custom_id": str(body.get("custom_id") or ""),
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.subscriptions[sub["id"]] = sub
        return sub

    def add_dispute(
        self, m: Merchant, capture: JSON, *, reason: str = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"
    ) -> JSON:
        at = self.tick()
        dispute = {
            "dispute_id": self._id("PP-D-", 10),
            "create_time": iso(at),
            "update_time": iso(at),
            "disputed_transactions": [
                {"seller_transaction_id": capture["id"], "buyer_transaction_id": self._id("B", 17)}
            ],
            "reason": reason,
            "status": "WAITING_FOR_SELLER_RESPONSE",
            "dispute_amount": dict(capture["amount"]),
            "dispute_life_cycle_stage": "CHARGEBACK",
            "seller_response_due_date": iso(at + timedelta(days=10)),
        }
        m.disputes[dispute["dispute_id"]] = dispute
        return dispute

    def add_invoice(
        self,
        m: Merchant,
        *,
        email: str,
        amount: str = "25.00",
        currency: str = "",
        status: str = "SENT",
        number: str = "",
        name: str = "Pat Buyer",
        invoice_date: str = "",
    ) -> JSON:
        """An invoice as the merchant made it in PayPal (v2 shape, stored as served)."""
        at = self.tick()
        currency = currency or m.currency
        n = len(m.invoices) + 1
        given, _, surname = name.partition(" ")
        inv: JSON = {
            "id": "INV2-" + "-".join(self._id("", 20)[i : i + 4] for i in range(0, 20, 4)),
            "status": status,
            "detail": {
                "invoice_number": number or f"{n:04d}",
                "reference": "",
                "invoice_date": invoice_date or at.date().isoformat(),
                "currency_code": currency,
                "payment_term": {
                    "term_type": "NET_30",
                    "due_date": (at + timedelta(days=30)).date().isoformat(),
                },
                "metadata": {
                    "create_time": iso(at),
                    "last_update_time": iso(at),
                    "recipient_view_url": f"https://www.sandbox.paypal.com/invoice/p/#{n:04d}",
                    "invoicer_view_url": f"https://www.sandbox.paypal.com/invoice/s/{n:04d}",
                },
            },
            "invoicer": {"email_address": f"merchant-{m.client_id}@example.com"},
            "primary_recipients": [
                {
                    "billing_info": {
                        "name": {"given_name": given, "surname": surname},
                        "email_address": email,
                    }
                }
            ],
            "amount": {
                **money(amount, currency),
                "breakdown": {
                    "item_total": money(amount, currency),
                    "tax_total": money("0", currency),
                },
            },
            "due_amount": money(amount if status not in PAID_INVOICE else "0", currency),
        }
        if status in PAID_INVOICE:
            self._paid(inv)
        m.invoices[inv["id"]] = inv
        return inv

    def _paid(self, inv: JSON, payment_id: str = "") -> None:
        amount = inv["amount"]
        inv["payments"] = {
            "paid_amount": {k: amount[k] for k in ("currency_code", "value")},
            "transactions": [
                {
                    "payment_id": payment_id or self._id("", 17),
                    "type": "PAYPAL" if inv["status"] == "PAID" else "EXTERNAL",
                    "payment_date": inv["detail"]["metadata"]["last_update_time"][:10],
                    "method": "PAYPAL" if inv["status"] == "PAID" else "BANK_TRANSFER",
                    "amount": {k: amount[k] for k in ("currency_code", "value")},
                }
            ],
        }
        inv["due_amount"] = money("0", amount["currency_code"])

    def invoice_change(self, inv: JSON, status: str, *, payment_id: str = "") -> JSON:
        """The invoice paid (``PAID``, ``MARKED_AS_PAID``), cancelled… at PayPal."""
        inv["status"] = status
        inv["detail"]["metadata"]["last_update_time"] = iso(self.tick())
        if status in PAID_INVOICE:
            self._paid(inv, payment_id)
        return inv

    def wire_invoice(self, inv: JSON) -> JSON:
        out = json.loads(json.dumps(inv))
        path = f"/v2/invoicing/invoices/{inv['id']}"
        out["links"] = [
            self._link(path, "self"),
            self._link(f"{path}/send", "send", "POST"),
            self._link(f"{path}/cancel", "cancel", "POST"),
        ]
        return out

    def invoice_event(self, inv: JSON, event_type: str) -> bytes:
        """An ``INVOICING.INVOICE.*`` webhook body (resource: the invoice, version 2.0)."""
        return json.dumps(
            {
                "id": f"WH-{uuid.uuid4().hex[:17].upper()}",
                "event_version": "1.0",
                "create_time": iso(self.tick()),
                "resource_type": "invoices",
                "resource_version": "2.0",
                "event_type": event_type,
                "summary": f"An invoice was {event_type.rsplit('.', 1)[-1].lower()}",
                "resource": self.wire_invoice(inv),
            }
        ).encode()

    # --- state changes -----------------------------------------------------------------
    def refunded(self, m: Merchant, capture_id: str) -> Decimal:
        return sum(
            (
                Decimal(r["amount"]["value"])
                for r in m.refunds.values()
                if r["capture_id"] == capture_id and r["status"] != "FAILED"
            ),
            Decimal(0),
        )

    def _refund(self, m: Merchant, capture: JSON, body: JSON) -> JSON:
        currency = capture["amount"]["currency_code"]
        total = Decimal(capture["amount"]["value"])
        done = self.refunded(m, capture["id"])
        if capture["status"] in ("PENDING", "DECLINED", "FAILED"):
            raise unprocessable(
                "CAPTURE_STATUS_NOT_VALID", "Invalid capture status: the capture is not completed."
            )
        if done >= total:
            raise unprocessable(
                "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."
            )
        requested = (body.get("amount") or {}).get("value")
        amount = _amount(requested, currency) if requested is not None else total - done
        if amount > total - done:
            raise unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",  # noqa: E501
            )
        at = self.tick()
        refund = {
            "id": self._id("1R", 17),
            "status": "COMPLETED",
            "amount": money(amount, currency),
            "note_to_payer": str(body.get("note_to_payer") or ""),
            "capture_id": capture["id"],
            "create_time": iso(at),
            "update_time": iso(at),
        }
        m.refunds[refund["id"]] = refund
        left = total - done - amount
        capture["status"] = "REFUNDED" if left == 0 else "PARTIALLY_REFUNDED"
        capture["update_time"] = iso(at)
        order = m.orders.get(capture["order_id"])
        if order is not None:
            order["purchase_units"][0]["payments"]["refunds"].append(refund["id"])
            order["update_time"] = iso(at)
        m.history.append(("refund", refund["id"]))
        return refund

    # --- wire shapes ------------------------------------------------------------------------
    def _link(self, path: str, rel: str, method: str = "GET") -> JSON:
        return {"href": f"{self.url}{path}", "rel": rel, "method": method}

    def wire_capture(self, m: Merchant, c: JSON) -> JSON:
        out = {
            k: v
            for k, v in c.items()
            if k not in ("order_id", "authorization_id", "subscription_id", "payer")
        }
        related: JSON = {}
        if c["order_id"]:
            related["order_id"] = c["order_id"]
        if c["authorization_id"]:
            related["authorization_id"] = c["authorization_id"]
        if c["subscription_id"]:
            # Subscription payments name their subscription as the billing agreement.
            out["custom_id"] = ""
            related["subscription_id"] = c["subscription_id"]
        out["supplementary_data"] = {"related_ids": related}
        out["seller_receivable_breakdown"] = {"gross_amount": c["amount"]}
        out["links"] = [
            self._link(f"/v2/payments/captures/{c['id']}", "self"),
            self._link(f"/v2/payments/captures/{c['id']}/refund", "refund", "POST"),
        ]
        if c["order_id"]:
            out["links"].append(self._link(f"/v2/checkout/orders/{c['order_id']}", "up"))
        return out

    def wire_authorization(self, m: Merchant, a: JSON) -> JSON:
        out = {k: v for k, v in a.items() if k not in ("order_id", "captured")}
        out["supplementary_data"] = {"related_ids": {"order_id": a["order_id"]}}
        path = f"/v2/payments/authorizations/{a['id']}"
        out["links"] = [
            self._link(path, "self"),
            self._link(f"{path}/capture", "capture", "POST"),
            self._link(f"{path}/void", "void", "POST"),
            self._link(f"/v2/checkout/orders/{a['order_id']}", "up"),
        ]
        return out

    def wire_refund(self, m: Merchant, r: JSON) -> JSON:
        out = {k: v for k, v in r.items() if k != "capture_id"}
        capture = m.captures[r["capture_id"]]
        out["seller_payable_breakdown"] = {
            "gross_amount": r["amount"],
            "total_refunded_amount": money(
                self.refunded(m, capture["id"]), capture["amount"]["currency_code"]
            ),
        }
        out["links"] = [
            self._link(f"/v2/payments/refunds/{r['id']}", "self"),
            self._link(f"/v2/payments/captures/{r['capture_id']}", "up"),
        ]
        return out

    def wire_order(self, m: Merchant, o: JSON) -> JSON:
        out = {k: v for k, v in o.items() if k not in ("purchase_units", "payer")}
        if o["payer"] is not None:
            out["payer"] = o["payer"]
        units = []
        for unit in o["purchase_units"]:
            payments = unit["payments"]
            wired = {k: v for k, v in unit.items() if k != "payments"}
            if any(payments.values()):
                wired["payments"] = {
                    "captures": [self.wire_capture(m, m.captures[i]) for i in payments["captures"]],
                    "authorizations": [
                        self.wire_authorization(m, m.authorizations[i])
                        for i in payments["authorizations"]
                    ],
                    "refunds": [self.wire_refund(m, m.refunds[i]) for i in payments["refunds"]],
                }
            units.append(wired)
        out["purchase_units"] = units
        out["links"] = [self._link(f"/v2/checkout/orders/{o['id']}", "self")]
        if o["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            host = "https://www.sandbox.paypal.com"
            out["links"].append(
                {"href": f"{host}/checkoutnow?token={o['id']}", "rel": "approve", "method": "GET"}
            )
        return out

    def wire_subscription(self, m: Merchant, s: JSON) -> JSON:
        out = dict(s)
        out["links"] = [self._link(f"/v1/billing/subscriptions/{s['id']}", "self")]
        if s["status"] == "APPROVAL_PENDING":
            host = "https://www.sandbox.paypal.com"
            out["links"].insert(
                0,
                {
                    "href": f"{host}/webapps/billing/subscriptions?ba_token=BA-{s['id'][2:]}",
                    "rel": "approve",
                    "method": "GET",
                },
            )
        return out

    def wire_plan(self, m: Merchant, p: JSON) -> JSON:
        return {**p, "links": [self._link(f"/v1/billing/plans/{p['id']}", "self")]}

    def search_row(self, m: Merchant, kind: str, object_id: str) -> tuple[datetime, JSON]:
        """One Transaction Search ``transaction_detail`` (what PayPal's reporting keeps)."""
        if kind == "refund":
            r = m.refunds[object_id]
            capture = m.captures[r["capture_id"]]
            amount = {**r["amount"], "value": "-" + r["amount"]["value"]}
            info = {
                "transaction_event_code": "T1107",
                "paypal_reference_id": capture["id"],
                "paypal_reference_id_type": "TXN",
                "transaction_status": "S",
            }
            payer, at, updated = capture["payer"], r["create_time"], r["update_time"]
        elif kind == "authorization":
            a = m.authorizations[object_id]
            order = m.orders[a["order_id"]]
            status = {"VOIDED": "V", "EXPIRED": "V"}.get(a["status"], "P")
            info = {"transaction_event_code": "T1300", "transaction_status": status}
            amount, payer = a["amount"], order["payer"]
            at, updated = a["create_time"], a["update_time"]
        else:
            c = m.captures[object_id]
            status = {"PENDING": "P", "DECLINED": "D", "FAILED": "F", "REFUNDED": "V"}.get(
                c["status"], "S"
            )
            code = "T0002" if c["subscription_id"] else "T0006"
            info = {"transaction_event_code": code, "transaction_status": status}
            if c["subscription_id"]:
                info["paypal_reference_id"] = c["subscription_id"]
                info["paypal_reference_id_type"] = "SUB"
            elif c["authorization_id"]:
                info["paypal_reference_id"] = c["authorization_id"]
                info["paypal_reference_id_type"] = "TXN"
            amount, payer = c["amount"], c["payer"]
            at, updated = c["create_time"], c["update_time"]
        info.update(
            transaction_id=object_id,
            transaction_amount=amount,
            transaction_initiation_date=at.replace("Z", "+0000"),
            transaction_updated_date=updated.replace("Z", "+0000"),
        )
        payer_info: JSON = {}
        if payer:
            name = payer.get("name") or {}
            payer_info = {
                "account_id": payer["payer_id"],
                "email_address": payer["email_address"],
                "payer_name": {
                    "given_name": name.get("given_name", ""),
                    "surname": name.get("surname", ""),
                },
                "country_code": (payer.get("address") or {}).get("country_code", ""),
            }
        return parse_time(at), {"transaction_info": info, "payer_info": payer_info}


def _wire_dispute(d: JSON, *, summary: bool) -> JSON:
    if summary:  # the list holds a summary: no disputed transactions
        return {k: v for k, v in d.items() if k != "disputed_transactions"}
    return dict(d)


class _Handler(BaseHTTPRequestHandler):
    fake: PayPalFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _send(self, status: int, body: Any = None, content_type: str = "application/json") -> None:
        if isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Paypal-Debug-Id", uuid.uuid4().hex[:13])
        self.end_headers()
        self.wfile.write(data)

    def _error(self, error: ApiError) -> None:
        self._send(error.status, error.body(uuid.uuid4().hex[:13]))

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.fake
        url = urlsplit(self.path)
        with fake.lock:
            fake.requests.append((method, url.path))
            failure = next((f for f in fake.failures if f[1] in url.path), None)
            if failure is not None:
                fake.failures.remove(failure)
                names = {
                    429: "RATE_LIMIT_REACHED",
                    500: "INTERNAL_SERVER_ERROR",
                    503: "SERVICE_UNAVAILABLE",
                }
                self._error(
                    ApiError(failure[0], names.get(failure[0], "ERROR"), "Injected failure.")
                )
                return
            if method == "GET" and url.path.startswith("/v1/notifications/certs/"):
                pem = fake.certs.get(url.path.rsplit("/", 1)[-1])
                self._send(200 if pem else 404, pem or b"", "application/x-pem-file")
                return
            if method == "POST" and url.path == "/v1/oauth2/token":
                self._token(fake, raw)
                return
            m = self._bearer(fake)
            if m is None:
                self._send(
                    401,
                    {
                        "error": "invalid_token",
                        "error_description": "Token signature verification failed",
                    },
                )
                return
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                self._error(
                    ApiError(
                        400,
                        "INVALID_REQUEST",
                        "Request is not well-formed, syntactically incorrect, or violates schema.",
                        "MALFORMED_REQUEST_JSON",
                    )
                )
                return
            key = self.headers.get("PayPal-Request-Id") or ""
            operation = f"{method} {url.path} {raw!r}"
            if method == "POST" and key and key in m.replays:
                first, status, answer = m.replays[key]
                if first == operation:
                    self._send(status, answer)
                    return
            try:
                status, answer = self._route(fake, m, method, url.path, body, parse_qs(url.query))
            except ApiError as exc:
                self._error(exc)
                return
            if method == "POST" and key:
                m.replays[key] = (operation, status, answer)
        self._send(status, answer)

    def _token(self, fake: PayPalFake, raw: bytes) -> None:
        header = self.headers.get("Authorization") or ""
        try:
            user, _, secret = (
                base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            )
        except ValueError:
            user = secret = ""
        m = fake.merchants.get(user)
        if not header.startswith("Basic ") or m is None or m.secret != secret:
            self._send(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
            return
        if parse_qs(raw.decode()).get("grant_type") != ["client_credentials"]:
            self._send(
                400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}
            )
            return
        token = "A21AA" + uuid.uuid4().hex
        m.tokens[token] = datetime.now(UTC) + timedelta(seconds=fake.token_lifetime)
        self._send(
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/refund",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": fake.token_lifetime,
                "nonce": uuid.uuid4().hex,
            },
        )

    def _bearer(self, fake: PayPalFake) -> Merchant | None:
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        for m in fake.merchants.values():
            expires = m.tokens.get(token)
            if expires is not None and expires > datetime.now(UTC):
                return m
        return None

    def _route(
        self,
        fake: PayPalFake,
        m: Merchant,
        method: str,
        path: str,
        body: JSON,
        query: dict[str, list[str]],
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        q: Callable[[str, str], str] = lambda name, default="": (query.get(name) or [default])[0]  # noqa: E731
        if parts[:3] == ["v1", "reporting", "transactions"] and method == "GET":
            return 200, self._search(fake, m, query)
        if parts[:3] == ["v2", "checkout", "orders"]:
            return self._orders(fake, m, method, parts[3:], body)
        if parts[:2] == ["v2", "payments"] and len(parts) >= 4:
            return self._payments(fake, m, method, parts[2], parts[3], parts[4:], body)
        if parts[:3] == ["v1", "billing", "plans"] and method == "GET":
            if len(parts) == 4:
                plan = m.plans.get(parts[3])
                if plan is None:
                    raise not_found(parts[3])
                return 200, fake.wire_plan(m, plan)
            size, page = int(q("page_size", "10")), int(q("page", "1"))
            plans = list(m.plans.values())[(page - 1) * size : page * size]
            return 200, {
                "plans": [fake.wire_plan(m, p) for p in plans],
                "total_items": len(m.plans),
                "links": [],
            }
        if parts[:3] == ["v1", "billing", "subscriptions"]:
            return self._subscriptions(fake, m, method, parts[3:], body)
        if parts[:3] == ["v2", "invoicing", "invoices"]:
            return self._invoices(fake, m, method, parts[3:], body, q)
        if parts[:3] == ["v1", "customer", "disputes"] and method == "GET":
            if len(parts) == 4:
                d = m.disputes.get(parts[3])
                if d is None:
                    raise not_found(parts[3])
                return 200, _wire_dispute(d, summary=False)
            size = int(q("page_size", "10"))
            start = int(q("next_page_token", "0") or 0)
            items = sorted(m.disputes.values(), key=lambda d: (d["create_time"], d["dispute_id"]))
            chunk = items[start : start + size]
            links = [fake._link("/v1/customer/disputes", "self")]
            if start + size < len(items):
                token = str(start + size)
                links.append(
                    fake._link(
                        "/v1/customer/disputes?"
                        + urlencode({"page_size": size, "next_page_token": token}),
                        "next",
                    )
                )
            return 200, {"items": [_wire_dispute(d, summary=True) for d in chunk], "links": links}
        if parts[:4] == ["v3", "vault", "payment-tokens"] and method == "GET":
            tokens = m.vault.get(q("customer_id"), [])
            return 200, {
                "customer": {"id": q("customer_id")},
                "payment_tokens": tokens,
                "total_items": len(tokens),
                "total_pages": 1,
                "links": [],
            }
        if parts[:3] == ["v1", "notifications", "webhooks"] and method == "GET" and len(parts) == 4:
            if parts[3] not in m.webhooks:
                raise not_found(parts[3])
            return 200, {
                "id": parts[3],
                "url": "https://billingdesk.example/webhooks/paypal",
                "event_types": [{"name": "*"}],
            }
        if path == "/v1/notifications/verify-webhook-signature" and method == "POST":
            required = (
                "auth_algo",
                "cert_url",
                "transmission_id",
                "transmission_sig",
                "transmission_time",
                "webhook_id",
                "webhook_event",
            )
            if any(not body.get(k) for k in required):
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    "Invalid request - see details",
                    "MISSING_REQUIRED_FIELD",
                )
            ok = body["webhook_id"] in m.webhooks and fake.postback_answer == "SUCCESS"
            return 200, {"verification_status": "SUCCESS" if ok else "FAILURE"}
        raise not_found(path)

    def _search(self, fake: PayPalFake, m: Merchant, query: dict[str, list[str]]) -> JSON:
        def q(name: str, default: str = "") -> str:
            return (query.get(name) or [default])[0]

        try:
            start, end = parse_time(q("start_date")), parse_time(q("end_date"))
        except ValueError:
            raise ApiError(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "INVALID_PARAMETER_SYNTAX",
                "start_date and end_date are required.",
            ) from None
        fake.search_windows.append((q("start_date"), q("end_date")))
        if end - start > MAX_WINDOW or end < start:
            raise ApiError(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "INVALID_DATE_RANGE",
                "Date range is greater than 31 days",
            )
        size = max(1, min(int(q("page_size", "100")), 500))
        page = max(1, int(q("page", "1")))
        rows = [fake.search_row(m, kind, i) for kind, i in m.history]
        rows = [row for at, row in rows if start <= at <= end]
        total_pages = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size : page * size]
        base = "/v1/reporting/transactions"
        params = {"start_date": q("start_date"), "end_date": q("end_date"), "page_size": size}
        links = [fake._link(f"{base}?{urlencode({**params, 'page': page})}", "self")]
        if page < total_pages:
            links.append(fake._link(f"{base}?{urlencode({**params, 'page': page + 1})}", "next"))
        return {
            "transaction_details": chunk,
            "account_number": "XZXSPECPDZHZU",
            "start_date": q("start_date"),
            "end_date": q("end_date"),
            "last_refreshed_datetime": iso(datetime.now(UTC)),
            "page": page,
            "total_items": len(rows),
            "total_pages": total_pages,
            "links": links,
        }

    def _orders(
        self, fake: PayPalFake, m: Merchant, method: str, rest: list[str], body: JSON
    ) -> tuple[int, Any]:
        if method == "GET" and len(rest) == 1:
            order = m.orders.get(rest[0])
            if order is None:
                raise not_found(rest[0])
            return 200, fake.wire_order(m, order)
        if method != "POST" or rest:
            raise not_found("/".join(rest))
        intent = body.get("intent")
        units = body.get("purchase_units") or []
        if intent not in ("CAPTURE", "AUTHORIZE") or len(units) != 1:
            raise ApiError(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "MISSING_REQUIRED_PARAMETER",
            )
        amount = units[0].get("amount") or {}
        currency = str(amount.get("currency_code") or "")
        value = _amount(amount.get("value"), currency)
        vault_id = ((body.get("payment_source") or {}).get("paypal") or {}).get("vault_id")
        if not vault_id:  # the buyer must approve it through the ``approve`` link
            order = fake._order(
                m, None, value, currency, intent, "CREATED", str(units[0].get("description") or "")
            )
            order["purchase_units"][0]["invoice_id"] = str(units[0].get("invoice_id") or "")
            return 201, fake.wire_order(m, order)
        token = next((t for ts in m.vault.values() for t in ts if t["id"] == vault_id), None)
        if token is None:
            raise unprocessable("INVALID_PAYMENT_TOKEN", "The vault id is not valid.")
        if token["id"].startswith(DECLINING_VAULT_PREFIX):
            raise unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, or it "
                "can't be used for this payment.",
            )
        source = token["payment_source"]["paypal"]
        payer = {
            "payer_id": source["payer_id"],
            "email_address": source["email_address"],
            "name": {"given_name": "", "surname": ""},
            "address": {"country_code": ""},
        }
        order = fake._order(m, payer, value, currency, intent, "COMPLETED")
        if intent == "AUTHORIZE":
            fake._authorize(m, order, value, currency)
        else:
            fake._capture(m, order, value, currency)
        return 201, fake.wire_order(m, order)

    def _payments(
        self,
        fake: PayPalFake,
        m: Merchant,
        method: str,
        kind: str,
        object_id: str,
        rest: list[str],
        body: JSON,
    ) -> tuple[int, Any]:
        if kind == "captures":
            capture = m.captures.get(object_id)
            if capture is None:
                raise not_found(object_id)
            if method == "GET" and not rest:
                return 200, fake.wire_capture(m, capture)
            if method == "POST" and rest == ["refund"]:
                return 201, fake.wire_refund(m, fake._refund(m, capture, body))
        if kind == "refunds" and method == "GET" and not rest:
            refund = m.refunds.get(object_id)
            if refund is None:
                raise not_found(object_id)
            return 200, fake.wire_refund(m, refund)
        if kind == "authorizations":
            auth = m.authorizations.get(object_id)
            if auth is None:
                raise not_found(object_id)
            if method == "GET" and not rest:
                return 200, fake.wire_authorization(m, auth)
            if method == "POST" and rest == ["void"]:
                if auth["status"] in ("CAPTURED", "PARTIALLY_CAPTURED"):
                    raise unprocessable(
                        "PREVIOUSLY_CAPTURED",
                        "Authorization has been previously captured and hence cannot be voided.",
                    )
                if auth["status"] == "VOIDED":
                    raise unprocessable(
                        "PREVIOUSLY_VOIDED",
                        "Authorization has been previously voided and cannot be voided again.",
                    )
                auth["status"] = "VOIDED"
                auth["update_time"] = iso(fake.tick())
                return 200, fake.wire_authorization(m, auth)
            if method == "POST" and rest == ["capture"]:
                if auth["status"] == "VOIDED":
                    raise unprocessable(
                        "AUTHORIZATION_VOIDED", "A voided authorization cannot be captured."
                    )
                if auth["status"] == "CAPTURED":
                    raise unprocessable(
                        "AUTHORIZATION_ALREADY_CAPTURED", "Authorization has already been captured."
                    )
                currency = auth["amount"]["currency_code"]
                left = Decimal(auth["amount"]["value"]) - Decimal(auth["captured"])
                requested = (body.get("amount") or {}).get("value")
                amount = _amount(requested, currency) if requested is not None else left
                if amount > left:
                    raise unprocessable(
                        "MAX_CAPTURE_AMOUNT_EXCEEDED", "Capture amount exceeds allowable limit."
                    )
                order = m.orders[auth["order_id"]]
                capture = fake._capture(m, order, amount, currency, authorization=auth["id"])
                auth["captured"] = str(Decimal(auth["captured"]) + amount)
                final = body.get("final_capture", True) is not False
                auth["status"] = "CAPTURED" if final or amount == left else "PARTIALLY_CAPTURED"
                auth["update_time"] = capture["update_time"]
                return 201, fake.wire_capture(m, capture)
        raise not_found(object_id)

    def _subscriptions(
        self, fake: PayPalFake, m: Merchant, method: str, rest: list[str], body: JSON
    ) -> tuple[int, Any]:
        if method == "POST" and not rest:
            return 201, fake.wire_subscription(m, fake._subscription(m, body, None))
        sub = m.subscriptions.get(rest[0]) if rest else None
        if sub is None:
            raise not_found(rest[0] if rest else "")
        if method == "GET" and len(rest) == 1:
            return 200, fake.wire_subscription(m, sub)
        if method == "POST" and len(rest) == 2 and rest[1] in ("cancel", "suspend", "activate"):
            allowed = {
                "cancel": ("ACTIVE", "SUSPENDED", "APPROVED"),
                "suspend": ("ACTIVE",),
                "activate": ("SUSPENDED",),
            }[rest[1]]
            if sub["status"] not in allowed:
                raise unprocessable(
                    "SUBSCRIPTION_STATUS_INVALID",
                    f"Invalid subscription status for {rest[1]} action; subscription status "
                    f"should be {' or '.join(allowed).lower()}.",
                )
            if not str(body.get("reason") or "") and rest[1] != "activate":
                raise ApiError(
                    400,
                    "INVALID_REQUEST",
                    "Request is not well-formed.",
                    "MISSING_REQUIRED_PARAMETER",
                    "reason is required",
                )
            sub["status"] = {"cancel": "CANCELLED", "suspend": "SUSPENDED", "activate": "ACTIVE"}[
                rest[1]
            ]
            sub["status_update_time"] = sub["update_time"] = iso(fake.tick())
            return 204, None
        raise not_found("/".join(rest))

    def _invoices(
        self,
        fake: PayPalFake,
        m: Merchant,
        method: str,
        rest: list[str],
        body: JSON,
        q: Callable[[str, str], str],
    ) -> tuple[int, Any]:
        if not m.invoicing:
            raise ApiError(
                403,
                "NOT_AUTHORIZED",
                "Authorization failed due to insufficient permissions.",
                "PERMISSION_DENIED",
                "You do not have permission to access or perform operations on this resource.",
            )
        if method == "GET" and not rest:
            try:
                page, size = int(q("page", "1")), int(q("page_size", "20"))
            except ValueError:
                page = size = 0
            if page < 1 or not 1 <= size <= 100:
                raise ApiError(
                    400,
                    "INVALID_REQUEST",
                    "Request is not well-formed, syntactically incorrect, or violates schema.",
                    "INVALID_PARAMETER_VALUE",
                    "page must be 1 or more and page_size between 1 and 100.",
                )
            items = sorted(
                m.invoices.values(),
                key=lambda i: (i["detail"]["metadata"]["create_time"], i["id"]),
                reverse=True,  # newest first, as PayPal lists them
            )
            chunk = items[(page - 1) * size : page * size]
            total_pages = max(1, -(-len(items) // size))
            base = "/v2/invoicing/invoices"
            links = [fake._link(f"{base}?{urlencode({'page': page, 'page_size': size})}", "self")]
            if page < total_pages:
                links.append(
                    fake._link(f"{base}?{urlencode({'page': page + 1, 'page_size': size})}", "next")
                )
            answer: JSON = {"items": [fake.wire_invoice(i) for i in chunk], "links": links}
            if q("total_required", "false") == "true":
                answer["total_items"] = len(items)
                answer["total_pages"] = total_pages
            return 200, answer
        inv = m.invoices.get(rest[0]) if rest else None
        if inv is None:
            raise not_found(rest[0] if rest else "")
        if method == "GET" and len(rest) == 1:
            return 200, fake.wire_invoice(inv)
        if method == "POST" and rest[1:] == ["send"]:
            if inv["status"] in UNSENDABLE_INVOICE:
                raise unprocessable(
                    "INVALID_INVOICE_STATUS",
                    f"Invoice in {inv['status']} status cannot be sent.",
                )
            m.invoice_sends.append((inv["id"], dict(body)))
            scheduled = inv["detail"]["invoice_date"] > iso(fake._clock)[:10]
            if inv["status"] == "DRAFT":
                inv["status"] = "SCHEDULED" if scheduled else "SENT"
                inv["detail"]["metadata"]["last_update_time"] = iso(fake.tick())
            path = f"/v2/invoicing/invoices/{inv['id']}"
            links = [
                fake._link(path, "self"),
                {
                    "href": inv["detail"]["metadata"]["recipient_view_url"],
                    "rel": "payer-view",
                    "method": "GET",
                },
            ]
            return (202 if inv["status"] == "SCHEDULED" else 200), {"links": links}
        raise not_found("/".join(rest))
