"""A fake Braintree gateway: the XML API the official ``braintree`` SDK speaks, over real HTTP.

Started as a server on 127.0.0.1 (port 0); an account whose credentials carry
``api_base=http://127.0.0.1:<port>`` gets a ``braintree.Environment`` pointed here, so the real
SDK-based connector is what talks to it. Faithful to Braintree where the connector depends on
it (https://developer.paypal.com/braintree/docs/reference/overview and the SDK's own gateways):

* Basic auth ``public_key:private_key`` on ``/merchants/<merchant_id>/…`` (401 otherwise), the
  ``X-ApiVersion`` header (426 without it), XML bodies with dashed tags and ``type=`` attributes.
* Searches in two steps: ``…/advanced_search_ids`` answers every matching id and the page size
  (50), ``…/advanced_search`` the objects of at most that many ids; disputes are paged with
  ``?page=N``.
* Transactions keep Braintree's life cycle: ``authorized`` → ``submitted_for_settlement`` →
  (``settle``, the sandbox-only testing call) ``settled``; ``voided``; refunds are ``credit``
  transactions linked both ways (``refund_ids`` / ``refunded_transaction_id``). Validation
  errors are 422 ``<api-error-response>`` with Braintree's codes: 91506 refund of an unsettled
  transaction, 91521 refund too large, 91504 void of a settled one, 91507 settle of a
  non-authorised one, 81902 subscription id taken. A card ending 1115 is processor-declined
  (2000 Do Not Honor), as the sandbox's 4000111111111115.
* ``api_request_key`` (SDK 4.48's idempotency key on sale, refund, void and
  submit_for_settlement): a repeated key is answered with the first answer; the same key on
  another request is refused (the code 91600 is this fake's: UNCONFIRMED).
* ``fail_next(status, times)`` answers the next requests with a bare HTTP status (429, 500…).

Objects are arranged through the Python methods below (what the Control Panel or the
merchant's checkout would have created), and read back through the API by the connector.
"""

from __future__ import annotations

import base64
import itertools
import threading
import xml.dom.minidom
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 50  # Braintree's search page size
DISPUTE_PAGE_SIZE = 10
SETTLED_LIKE = ("settled", "settling")
DECLINING_SUFFIX = "1115"


# --- XML, as Braintree writes it -----------------------------------------------------------
def _tag(key: str) -> str:
    return key.replace("_", "-")


def to_xml(key: str, value: Any) -> str:
    tag = _tag(key)
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, bool):
        return f'<{tag} type="boolean">{"true" if value else "false"}</{tag}>'
    if isinstance(value, int):
        return f'<{tag} type="integer">{value}</{tag}>'
    if isinstance(value, datetime):
        return f'<{tag} type="datetime">{value.strftime("%Y-%m-%dT%H:%M:%SZ")}</{tag}>'
    if isinstance(value, list):
        inner = "".join(to_xml(item_tag, item) for item_tag, item in value)
        return f'<{tag} type="array">{inner}</{tag}>'
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(to_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{tag}>{text}</{tag}>"


def array(tag: str, items: list[Any]) -> list[tuple[str, Any]]:
    """A ``type="array"`` value: ``items`` each written as ``<tag>``."""
    return [(tag, item) for item in items]


def from_xml(body: bytes) -> dict[str, Any]:
    """A request body as a dict (tags underscored; ``type`` attributes read)."""
    if not body.strip():
        return {}
    doc = xml.dom.minidom.parseString(body)
    root = doc.documentElement
    return {root.tagName.replace("-", "_"): _node(root)}


def _node(node: Any) -> Any:
    kind = node.getAttribute("type")
    elements = [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE]
    if kind == "array":
        return [_node(c) for c in elements]
    if not elements:
        text = "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE).strip()
        if kind == "boolean":
            return text in ("true", "1")
        if kind == "integer":
            return int(text)
        if kind == "datetime":
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return text
    return {c.tagName.replace("-", "_"): _node(c) for c in elements}


def error_response(code: str, message: str, on: str = "transaction", **extra: Any) -> str:
    errors = {
        "errors": array("error", []),
        on: {"errors": array("error", [{"code": code, "attribute": "base", "message": message}])},
    }
    return to_xml("api_error_response", {"errors": errors, "message": message, **extra})


# --- state ---------------------------------------------------------------------------------
@dataclass
class Merchant:
    merchant_id: str
    public_key: str
    private_key: str
    currency: str = "EUR"
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # api_request_key → (operation, status, answer): a repeated key gets the first answer.
    replays: dict[str, tuple[str, int, str]] = field(default_factory=dict)


def money(amount: Decimal | str, currency: str) -> str:
    places = 0 if currency in ("JPY", "KRW") else 2
    return f"{Decimal(amount):.{places}f}"


class BraintreeFake:
    """The fake gateway and its state. Use as a context manager (starts/stops the server)."""

    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}
        self.failures: list[tuple[int, str]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of each API call
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.clock = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> BraintreeFake:
        fake = self

        class Handler(_Handler):
            owner = fake

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

    # --- arranging -------------------------------------------------------------------------
    def merchant(
        self, merchant_id: str, public_key: str, private_key: str, currency: str = "EUR"
    ) -> Merchant:
        with self.lock:
            m = Merchant(merchant_id, public_key, private_key, currency)
            self.merchants[merchant_id] = m
            return m

    def fail_next(self, status: int, times: int = 1, *, path_contains: str = "") -> None:
        """Answer the next ``times`` requests (whose path contains ``path_contains``) with
        a bare ``status``."""
        with self.lock:
            self.failures.extend([(status, path_contains)] * times)

    def _id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids):06d}"

    def tick(self) -> datetime:
        """The fake's clock: each object created a minute after the previous one."""
        with self.lock:
            self.clock += timedelta(minutes=1)
            return self.clock

    def add_customer(
        self, m: Merchant, *, email: str, first_name: str = "", last_name: str = "", **kw: Any
    ) -> dict[str, Any]:
        at = kw.pop("created_at", None) or self.tick()
        cid = kw.pop("id", None) or self._id()
        customer = {
            "id": cid,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "company": kw.get("company", ""),
            "phone": kw.get("phone", ""),
            "created_at": at,
            "updated_at": at,
        }
        with self.lock:
            m.customers[cid] = customer
        return customer

    def add_card(
        self,
        m: Merchant,
        customer_id: str,
        *,
        number: str = "4111111111111111",
        card_type: str = "Visa",
        exp: tuple[int, int] = (12, 2030),
        default: bool = True,
    ) -> dict[str, Any]:
        at = self.tick()
        token = self._id("tok")
        card = {
            "kind": "credit_card",
            "token": token,
            "customer_id": customer_id,
            "card_type": card_type,
            "bin": number[:6],
            "last_4": number[-4:],
            "expiration_month": f"{exp[0]:02d}",
            "expiration_year": str(exp[1]),
            "default": default,
            "expired": False,
            "created_at": at,
            "updated_at": at,
        }
        with self.lock:
            if default:
                for other in m.methods.values():
                    if other["customer_id"] == customer_id:
                        other["default"] = False
            m.methods[token] = card
        return card

    def add_paypal_account(
        self, m: Merchant, customer_id: str, *, email: str, default: bool = False
    ) -> dict[str, Any]:
        at = self.tick()
        token = self._id("pp")
        account = {
            "kind": "paypal_account",
            "token": token,
            "customer_id": customer_id,
            "email": email,
            "default": default,
            "billing_agreement_id": f"B-{token}",
            "created_at": at,
            "updated_at": at,
        }
        with self.lock:
            m.methods[token] = account
        return account

    def add_plan(
        self, m: Merchant, plan_id: str, *, price: str, frequency: int = 1, name: str = ""
    ) -> None:
        at = self.tick()
        m.plans[plan_id] = {
            "id": plan_id,
            "name": name or plan_id,
            "price": money(price, m.currency),
            "currency_iso_code": m.currency,
            "billing_frequency": frequency,
            "billing_day_of_month": None,
            "number_of_billing_cycles": None,
            "trial_period": False,
            "description": "",
            "created_at": at,
            "updated_at": at,
            "add_ons": array("add_on", []),
            "discounts": array("discount", []),
        }

    def add_discount(self, m: Merchant, discount_id: str, *, amount: str, name: str = "") -> None:
        at = self.tick()
        m.discounts[discount_id] = {
            "id": discount_id,
            "name": name or discount_id,
            "amount": money(amount, m.currency),
            "kind": "discount",
            "never_expires": True,
            "number_of_billing_cycles": None,
            "description": "",
            "created_at": at,
            "updated_at": at,
        }

    def add_sale(
        self,
        m: Merchant,
        *,
        token: str,
        amount: str,
        settle: bool = True,
        order_id: str = "",
        submit: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            txn = self._sale(
                m,
                {
                    "payment_method_token": token,
                    "amount": amount,
                    "order_id": order_id,
                    "options": {"submit_for_settlement": submit},
                },
            )
            if isinstance(txn, str):
                raise AssertionError(txn)
            if settle and submit:
                self._transition(txn, "settled")
            return txn

    def add_dispute(
        self, m: Merchant, transaction_id: str, *, reason: str = "fraud"
    ) -> dict[str, Any]:
        at = self.tick()
        txn = m.transactions[transaction_id]
        did = self._id("dp")
        dispute = {
            "id": did,
            "amount_disputed": txn["amount"],
            "currency_iso_code": txn["currency_iso_code"],
            "status": "open",
            "kind": "chargeback",
            "reason": reason,
            "reply_by_date": (at + timedelta(days=7)).date().isoformat(),
            "received_date": at.date().isoformat(),
            "created_at": at,
            "updated_at": at,
            "transaction": {"id": transaction_id, "amount": txn["amount"]},
        }
        with self.lock:
            m.disputes[did] = dispute
        return dispute

    # --- behaviour -------------------------------------------------------------------------
    def _transition(self, txn: dict[str, Any], status: str, amount: str | None = None) -> None:
        at = self.tick()
        txn["status"] = status
        txn["updated_at"] = at
        txn["status_history"].append(
            {
                "status": status,
                "timestamp": at,
                "amount": amount or txn["amount"],
                "transaction_source": "api",
                "user": "fake",
            }
        )

    def _sale(self, m: Merchant, params: dict[str, Any]) -> dict[str, Any] | str:
        """A new sale, or the error XML for a validation failure."""
        try:
            amount = Decimal(str(params.get("amount") or ""))
        except ArithmeticError:
            return error_response("81503", "Amount is an invalid format.")
        if amount <= 0:
            return error_response("81531", "Amount must be greater than zero.")
        method = m.methods.get(str(params.get("payment_method_token") or ""))
        if method is None and params.get("customer_id"):
            method = next(
                (
                    pm
                    for pm in m.methods.values()
                    if pm["customer_id"] == params["customer_id"] and pm["default"]
                ),
                None,
            )
        if method is None:
            return error_response("91518", "Payment method token is invalid.")
        customer = m.customers[method["customer_id"]]
        at = self.tick()
        tid = self._id("t")
        txn: dict[str, Any] = {
            "id": tid,
            "type": "sale",
            "status": "authorized",
            "amount": money(amount, m.currency),
            "currency_iso_code": m.currency,
            "merchant_account_id": m.merchant_id,
            "order_id": str(params.get("order_id") or ""),
            "created_at": at,
            "updated_at": at,
            "customer": {k: customer[k] for k in ("id", "email", "first_name", "last_name")},
            "refund_ids": [],
            "refunded_transaction_id": None,
            "status_history": [],
            "processor_response_code": "1000",
            "processor_response_text": "Approved",
            "disputes": array("dispute", []),
            "subscription_id": params.get("subscription_id"),
            "plan_id": params.get("plan_id"),
        }
        if method["kind"] == "credit_card":
            txn["payment_instrument_type"] = "credit_card"
            txn["credit_card"] = {
                k: method[k]
                for k in (
                    "token",
                    "card_type",
                    "last_4",
                    "bin",
                    "expiration_month",
                    "expiration_year",
                )
            }
        else:
            txn["payment_instrument_type"] = "paypal_account"
            txn["paypal"] = {"token": method["token"], "payer_email": method["email"]}
        txn["status_history"].append(
            {
                "status": "authorized",
                "timestamp": at,
                "amount": txn["amount"],
                "transaction_source": "api",
                "user": "fake",
            }
        )
        if method.get("last_4") == DECLINING_SUFFIX:
            txn["status"] = "processor_declined"
            txn["processor_response_code"] = "2000"
            txn["processor_response_text"] = "Do Not Honor"
            txn["status_history"][-1]["status"] = "processor_declined"
            m.transactions[tid] = txn
            return to_xml(
                "api_error_response",
                {
                    "errors": {"errors": array("error", [])},
                    "message": "Do Not Honor",
                    "transaction": self._wire_txn(txn),
                },
            )
        m.transactions[tid] = txn
        if (params.get("options") or {}).get("submit_for_settlement") in (True, "true"):
            self._transition(txn, "submitted_for_settlement")
        return txn

    def _wire_txn(self, txn: dict[str, Any]) -> dict[str, Any]:
        wire = dict(txn)
        wire["refund_ids"] = array("item", txn["refund_ids"])
        wire["status_history"] = array("status_event", txn["status_history"])
        return wire

    def _refund(
        self, m: Merchant, sale: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any] | str:
        if sale["type"] != "sale":
            return error_response("91505", "Cannot refund a credit.")
        if sale["status"] not in SETTLED_LIKE:
            return error_response("91506", "Cannot refund transaction unless it is settled.")
        refunded = sum(
            Decimal(m.transactions[r]["amount"])
            for r in sale["refund_ids"]
            if m.transactions[r]["status"] not in ("voided", "failed")
        )
        left = Decimal(sale["amount"]) - refunded
        if left <= 0:
            return error_response("91512", "Transaction has already been completely refunded.")
        amount = Decimal(str(params["amount"])) if params.get("amount") else left
        if amount > left:
            return error_response("91521", "Refund amount is too large.")
        at = self.tick()
        rid = self._id("r")
        credit = {
            **sale,
            "id": rid,
            "type": "credit",
            "status": "submitted_for_settlement",
            "amount": money(amount, sale["currency_iso_code"]),
            "order_id": str(params.get("order_id") or ""),
            "created_at": at,
            "updated_at": at,
            "refund_ids": [],
            "refunded_transaction_id": sale["id"],
            "status_history": [
                {
                    "status": "submitted_for_settlement",
                    "timestamp": at,
                    "amount": money(amount, sale["currency_iso_code"]),
                    "transaction_source": "api",
                    "user": "fake",
                }
            ],
        }
        m.transactions[rid] = credit
        sale["refund_ids"].append(rid)
        sale["updated_at"] = at
        return credit

    def _subscription(self, m: Merchant, params: dict[str, Any]) -> dict[str, Any] | str:
        sid = str(params.get("id") or "") or self._id("s")
        if sid in m.subscriptions:
            return error_response("81902", "ID has already been taken.", on="subscription")
        plan = m.plans.get(str(params.get("plan_id") or ""))
        if plan is None:
            return error_response("91904", "Plan ID is invalid.", on="subscription")
        method = m.methods.get(str(params.get("payment_method_token") or ""))
        if method is None:
            return error_response("91903", "Payment method token is invalid.", on="subscription")
        at = self.tick()
        price = money(params.get("price") or plan["price"], m.currency)
        discounts = []
        for add in (params.get("discounts") or {}).get("add") or []:
            found = m.discounts.get(str(add.get("inherited_from_id") or ""))
            if found is None:
                return error_response("92025", "Inherited From ID is invalid.", on="subscription")
            discounts.append({**found, "quantity": 1, "current_billing_cycle": 0})
        sub = {
            "id": sid,
            "plan_id": plan["id"],
            "price": price,
            "status": "Active",
            "payment_method_token": method["token"],
            "merchant_account_id": m.merchant_id,
            "billing_period_start_date": at.date().isoformat(),
            "billing_period_end_date": (at + timedelta(days=30)).date().isoformat(),
            "next_billing_date": (at + timedelta(days=31)).date().isoformat(),
            "first_billing_date": at.date().isoformat(),
            "current_billing_cycle": 1,
            "number_of_billing_cycles": None,
            "trial_period": False,
            "balance": money("0", m.currency),
            "created_at": at,
            "updated_at": at,
            "add_ons": [],
            "discounts": discounts,
            "status_history": [
                {
                    "status": "Active",
                    "timestamp": at,
                    "price": price,
                    "balance": money("0", m.currency),
                    "subscription_source": "api",
                    "user": "fake",
                }
            ],
            "transactions": [],
        }
        m.subscriptions[sid] = sub
        txn = self._sale(
            m,
            {
                "payment_method_token": method["token"],
                "amount": price,
                "subscription_id": sid,
                "plan_id": plan["id"],
                "options": {"submit_for_settlement": True},
            },
        )
        if isinstance(txn, dict):
            sub["transactions"].append(txn["id"])
        return sub

    def wire_subscription(self, m: Merchant, sub: dict[str, Any]) -> dict[str, Any]:
        wire = dict(sub)
        wire["add_ons"] = array("add_on", sub["add_ons"])
        wire["discounts"] = array("discount", sub["discounts"])
        wire["status_history"] = array("status_event", sub["status_history"])
        wire["transactions"] = array(
            "transaction", [self._wire_txn(m.transactions[t]) for t in sub["transactions"]]
        )
        return wire

    def wire_customer(self, m: Merchant, customer: dict[str, Any]) -> dict[str, Any]:
        cards, paypals = [], []
        for pm in m.methods.values():
            if pm["customer_id"] != customer["id"]:
                continue
            subs = [
                self.wire_subscription(m, s)
                for s in m.subscriptions.values()
                if s["payment_method_token"] == pm["token"]
            ]
            wire = {k: v for k, v in pm.items() if k != "kind"}
            wire["subscriptions"] = array("subscription", subs)
            (cards if pm["kind"] == "credit_card" else paypals).append(wire)
        return {
            **customer,
            "credit_cards": array("credit_card", cards),
            "paypal_accounts": array("paypal_account", paypals),
            "addresses": array("address", []),
        }


def _in_range(value: Any, criteria: dict[str, Any]) -> bool:
    if "min" in criteria and value < criteria["min"]:
        return False
    if "max" in criteria and value > criteria["max"]:
        return False
    return not ("is" in criteria and value != criteria["is"])


def _matches(obj: dict[str, Any], search: dict[str, Any]) -> bool:
    for name, criteria in search.items():
        if name == "ids":
            if obj["id"] not in criteria:
                return False
        elif name == "created_at":
            if not _in_range(obj["created_at"], criteria):
                return False
        elif name in ("order_id", "customer_id", "email"):
            value = obj.get(name) if name != "customer_id" else obj["customer"]["id"]
            if isinstance(criteria, dict) and "is" in criteria and value != criteria["is"]:
                return False
        elif name == "type" and obj.get("type") not in criteria:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    owner: BraintreeFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _send(self, status: int, body: str = "") -> None:
        data = (f'<?xml version="1.0" encoding="UTF-8"?>\n{body}' if body else "").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.owner
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        with fake.lock:
            fake.requests.append((method, url.path))
            failure = next((f for f in fake.failures if f[1] in url.path), None)
            if failure is not None:
                fake.failures.remove(failure)
                self._send(failure[0])
                return
            if self.headers.get("X-ApiVersion") is None:
                self._send(426)
                return
            if len(parts) < 2 or parts[0] != "merchants":
                self._send(404)
                return
            m = fake.merchants.get(parts[1])
            if m is None or not self._authorised(m):
                self._send(401)
                return
            try:
                params = from_xml(body)
            except Exception:
                self._send(400)
                return
            status, answer = self._route(fake, m, method, parts[2:], params, parse_qs(url.query))
        self._send(status, answer)

    def _authorised(self, m: Merchant) -> bool:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (m.public_key, m.private_key)

    def _route(
        self,
        fake: BraintreeFake,
        m: Merchant,
        method: str,
        path: list[str],
        params: dict[str, Any],
        query: dict[str, list[str]],
    ) -> tuple[int, str]:
        head = path[0] if path else ""
        rest = path[1:]
        search = (params.get("search") or {}) if isinstance(params.get("search"), dict) else {}
        if method == "GET" and head in ("plans", "discounts") and not rest:
            store = m.plans if head == "plans" else m.discounts
            return 200, to_xml(head, array(head[:-1], list(store.values())))
        collections = {
            "customers": (m.customers, "customers", "customer"),
            "transactions": (m.transactions, "credit_card_transactions", "transaction"),
            "subscriptions": (m.subscriptions, "subscriptions", "subscription"),
        }
        if (
            method == "POST"
            and head in collections
            and rest
            and rest[0].startswith("advanced_search")
        ):
            store, outer, inner = collections[head]
            found = sorted(
                (o for o in store.values() if _matches(o, search)),
                key=lambda o: (o["created_at"], o["id"]),
            )
            if rest[0] == "advanced_search_ids":
                return 200, to_xml(
                    "search_results",
                    {"page_size": PAGE_SIZE, "ids": array("item", [o["id"] for o in found])},
                )
            found = found[:PAGE_SIZE]
            items = [self._wire(fake, m, head, o) for o in found]
            return 200, f'<{_tag(outer)} type="collection">' + "".join(
                to_xml(inner, i) for i in items
            ) + f"</{_tag(outer)}>"
        if method == "POST" and head == "disputes" and rest == ["advanced_search"]:
            page = int((query.get("page") or ["1"])[0])
            found = sorted(m.disputes.values(), key=lambda d: (d["created_at"], d["id"]))
            chunk = found[(page - 1) * DISPUTE_PAGE_SIZE : page * DISPUTE_PAGE_SIZE]
            inner = "".join(to_xml("dispute", d) for d in chunk)
            return 200, (
                '<disputes type="collection">'
                f'<current-page-number type="integer">{page}</current-page-number>'
                f'<page-size type="integer">{DISPUTE_PAGE_SIZE}</page-size>'
                f'<total-items type="integer">{len(found)}</total-items>{inner}</disputes>'
            )
        if head == "payment_methods" and method == "GET" and len(rest) == 2 and rest[0] == "any":
            pm = m.methods.get(rest[1])
            if pm is None:
                return 404, ""
            wire = {k: v for k, v in pm.items() if k != "kind"}
            return 200, to_xml(pm["kind"], wire)
        if head in collections and method == "GET" and len(rest) == 1:
            store = collections[head][0]
            obj = store.get(rest[0])
            if obj is None:
                return 404, ""
            return 200, to_xml(collections[head][2], self._wire(fake, m, head, obj))
        if head == "transactions":
            return self._transactions(fake, m, method, rest, params)
        if head == "subscriptions":
            return self._subscriptions(fake, m, method, rest, params)
        return 404, ""

    def _wire(
        self, fake: BraintreeFake, m: Merchant, head: str, obj: dict[str, Any]
    ) -> dict[str, Any]:
        if head == "customers":
            return fake.wire_customer(m, obj)
        if head == "subscriptions":
            return fake.wire_subscription(m, obj)
        return fake._wire_txn(obj)

    def _txn_answer(self, fake: BraintreeFake, result: dict[str, Any] | str) -> tuple[int, str]:
        if isinstance(result, str):
            return 422, result
        return 201, to_xml("transaction", fake._wire_txn(result))

    def _transactions(
        self, fake: BraintreeFake, m: Merchant, method: str, rest: list[str], params: dict[str, Any]
    ) -> tuple[int, str]:
        body = params.get("transaction") or {}
        key = str(body.get("api_request_key") or "") if isinstance(body, dict) else ""
        operation = f"{method} {'/'.join(rest)}"
        if key and key in m.replays:
            first, status, answer = m.replays[key]
            if first != operation:
                return 422, error_response(
                    "91600", "API request key was already used for a different request."
                )
            return status, answer
        status, answer = self._transaction_call(fake, m, method, rest, body)
        if key and status in (201, 422):
            m.replays[key] = (operation, status, answer)
        return status, answer

    def _transaction_call(
        self, fake: BraintreeFake, m: Merchant, method: str, rest: list[str], body: dict[str, Any]
    ) -> tuple[int, str]:
        if method == "POST" and not rest:
            if body.get("type") != "sale":
                return 422, error_response("91523", "Transaction type is invalid.")
            return self._txn_answer(fake, fake._sale(m, body))
        if len(rest) != 2:
            return 404, ""
        txn = m.transactions.get(rest[0])
        if txn is None:
            return 404, ""
        action = rest[1]
        if method == "POST" and action == "refund":
            return self._txn_answer(fake, fake._refund(m, txn, body))
        if method == "PUT" and action == "void":
            if txn["status"] not in (
                "authorized",
                "submitted_for_settlement",
                "settlement_pending",
            ):
                return 422, error_response(
                    "91504",
                    "Transaction can only be voided if status is authorized, "
                    "submitted_for_settlement, or - for PayPal - settlement_pending.",
                )
            fake._transition(txn, "voided")
            return self._txn_answer(fake, txn)
        if method == "PUT" and action == "submit_for_settlement":
            if txn["status"] != "authorized":
                return 422, error_response(
                    "91507", "Cannot submit for settlement unless status is authorized."
                )
            amount = body.get("amount")
            if amount and Decimal(str(amount)) > Decimal(txn["amount"]):
                return 422, error_response("91522", "Settlement amount is too large.")
            if amount:
                txn["amount"] = money(amount, txn["currency_iso_code"])
            fake._transition(txn, "submitted_for_settlement", txn["amount"])
            return self._txn_answer(fake, txn)
        if method == "PUT" and action == "settle":  # the testing gateway (sandbox only)
            if txn["status"] != "submitted_for_settlement":
                return 422, error_response("91507", "Cannot settle unless submitted.")
            fake._transition(txn, "settled")
            return self._txn_answer(fake, txn)
        return 404, ""

    def _subscriptions(
        self, fake: BraintreeFake, m: Merchant, method: str, rest: list[str], params: dict[str, Any]
    ) -> tuple[int, str]:
        body = params.get("subscription") or {}
        if method == "POST" and not rest:
            result = fake._subscription(m, body)
            if isinstance(result, str):
                return 422, result
            return 201, to_xml("subscription", fake.wire_subscription(m, result))
        sub = m.subscriptions.get(rest[0]) if rest else None
        if sub is None:
            return 404, ""
        if method == "PUT" and rest[1:] == ["cancel"]:
            if sub["status"] == "Canceled":
                return 422, error_response(
                    "81905", "Subscription has already been canceled.", on="subscription"
                )
            at = fake.tick()
            sub["status"] = "Canceled"
            sub["updated_at"] = at
            sub["status_history"].append(
                {
                    "status": "Canceled",
                    "timestamp": at,
                    "price": sub["price"],
                    "balance": sub["balance"],
                    "subscription_source": "api",
                    "user": "fake",
                }
            )
            return 200, to_xml("subscription", fake.wire_subscription(m, sub))
        if method == "PUT" and not rest[1:]:
            for add in (body.get("discounts") or {}).get("add") or []:
                found = m.discounts.get(str(add.get("inherited_from_id") or ""))
                if found is None:
                    return 422, error_response(
                        "92025", "Inherited From ID is invalid.", on="subscription"
                    )
                if any(d["id"] == found["id"] for d in sub["discounts"]):
                    return 422, error_response(
                        "92019", "Cannot edit or add a duplicate discount.", on="subscription"
                    )
                sub["discounts"].append({**found, "quantity": 1, "current_billing_cycle": 0})
            sub["updated_at"] = fake.tick()
            return 200, to_xml("subscription", fake.wire_subscription(m, sub))
        return 404, ""


def iter_ids(fake: BraintreeFake, path_part: str) -> Iterator[tuple[str, str]]:
    """The API calls made so far whose path contains ``path_part`` (for call counting)."""
    return ((verb, path) for verb, path in fake.requests if path_part in path)
