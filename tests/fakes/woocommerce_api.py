"""A fake WooCommerce shop: the REST API v3 (and WooCommerce Subscriptions) over real HTTP.

Started as a server on 127.0.0.1 (port 0, plain HTTP; ``tls=`` an ``ssl.SSLContext`` makes
it HTTPS). Each shop is a WordPress site at ``<url>/shops/<name>``, whose API is
``/wp-json/wc/v3/…``; an account whose ``site_url`` names it is what the real connector
talks to. Faithful to WooCommerce where the connector depends on it
(https://woocommerce.github.io/woocommerce-rest-api-docs/, ``WC_REST_Authentication``):

* Authentication as ``WC_REST_Authentication`` does it: over HTTPS, HTTP Basic
  (``ck_…:cs_…``); over plain HTTP, OAuth 1.0a one-legged in the query string, checked the
  way WooCommerce's PHP checks it (parameters sorted by raw key, each key and value
  RFC 3986-encoded, each ``key=value`` encoded again and joined with ``%26``; HMAC-SHA1 or
  -SHA256 keyed with ``consumer_secret&``; a timestamp within 15 minutes; a nonce used once).
  Basic over plain HTTP is not looked at (WooCommerce ignores it there), so it is a 401.
* Errors as WordPress writes them: ``{"code", "message", "data": {"status"}}``; an unknown
  route is 404 ``rest_no_route`` (how a shop without the Subscriptions extension answers
  ``/subscriptions``); ``per_page`` above 100 is 400 ``rest_invalid_param``.
* Listings with ``page``/``per_page`` (default 10), ``X-WP-Total``/``X-WP-TotalPages`` and
  an RFC 5988 ``Link`` header; ``orderby``/``order``; ``modified_after``; orders by
  ``status``, ``customer``, ``search``; customers by ``email`` and ``role``.
* Money as decimal strings in the currency's major unit; dates as ``Y-m-dTH:i:s`` with
  ``*_gmt`` twins.
* Refunds (``POST /orders/<id>/refunds``): ``amount`` or line items; more than is left is
  WooCommerce's 500 ``woocommerce_rest_cannot_create_order_refund`` "Invalid refund amount.";
  with ``api_refund`` the order's payment gateway must support refunds ("The payment gateway
  for this order does not support automatic refunds."), and then ``refunded_payment`` is
  true; a refund of the whole order makes it ``refunded``.
* ``fail_next(status, times)`` answers the next requests with that status and an error body.

Objects are arranged through the Python methods below (what the shop's checkout or admin
would have created) and read back through the API by the connector. ``calls`` counts API
requests (for the benchmark).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MAX_PER_PAGE = 100
OAUTH_WINDOW = 15 * 60


def fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def money(value: Decimal | int | str, currency: str) -> str:
    places = 0 if currency in ("JPY", "KRW") else 3 if currency in ("KWD", "BHD") else 2
    return f"{Decimal(str(value)):.{places}f}"


def _rfc3986(value: str) -> str:
    # PHP's rawurlencode, with ~ left alone (wc_rest_urlencode_rfc3986).
    return quote(value, safe="-_.~")


def php_oauth_signature(method: str, base_uri: str, params: dict[str, str], secret: str) -> str:
    """The signature ``WC_REST_Authentication::check_oauth_signature`` expects."""
    algorithm = params["oauth_signature_method"].removeprefix("HMAC-").lower()
    ordered = {k: params[k] for k in sorted(params)}
    normalized = {_rfc3986(unquote(k)): _rfc3986(unquote(v)) for k, v in ordered.items()}
    query = "%26".join(_rfc3986(f"{k}={v}") for k, v in normalized.items())
    string_to_sign = f"{method}&{_rfc3986(base_uri)}&{query}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), algorithm).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Shop:
    name: str
    key: str
    secret: str
    currency: str = "EUR"
    subscriptions_extension: bool = True
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # Payment gateways (plugins): id → (title, supports automatic refunds).
    gateways: dict[str, tuple[str, bool]] = field(
        default_factory=lambda: {
            "stripe": ("Credit card (Stripe)", True),
            "ppcp-gateway": ("PayPal", True),
            "bacs": ("Direct bank transfer", False),
        }
    )
    nonces: set[str] = field(default_factory=set)
    # Refunds the payment gateway made (order id, amount): what api_refund moved.
    gateway_refunds: list[tuple[int, str]] = field(default_factory=list)


class WooFake:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.shops: dict[str, Shop] = {}
        self.failures: list[tuple[int, int]] = []  # (status, remaining)
        self.calls = 0
        # (method, route after /wc/v3, query without the oauth_ parameters) of each request.
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._ids = itertools.count(100)
        self._lock = threading.RLock()
        self._tls = tls
        self._server: ThreadingHTTPServer | None = None
        self._clock = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)

    # --- server --------------------------------------------------------------------------
    def __enter__(self) -> WooFake:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self._tls is not None:
            self._server.socket = self._tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def site_url(self, shop: Shop) -> str:
        return f"{self.url}/shops/{shop.name}"

    def shop(
        self, name: str, *, currency: str = "EUR", subscriptions: bool = True, secret: str = ""
    ) -> Shop:
        with self._lock:
            shop = Shop(name, f"ck_{name}", secret or f"cs_{name}", currency, subscriptions)
            self.shops[name] = shop
            return shop

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.append((status, times))

    def _id(self) -> int:
        return next(self._ids)

    def tick(self) -> datetime:
        with self._lock:
            self._clock += timedelta(seconds=1)
            return self._clock

    @staticmethod
    def _dates(prefix: str, at: datetime | None) -> dict[str, Any]:
        return {
            f"date_{prefix}": fmt(at) if at else None,
            f"date_{prefix}_gmt": fmt(at) if at else None,
        }

    # --- arranging -------------------------------------------------------------------------
    def add_customer(
        self,
        shop: Shop,
        *,
        email: str,
        first_name: str = "",
        last_name: str = "",
        country: str = "FR",
    ) -> dict[str, Any]:
        at = self.tick()
        customer_id = self._id()
        customer = {
            "id": customer_id,
            **self._dates("created", at),
            **self._dates("modified", at),
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "role": "customer",
            "username": email.split("@")[0],
            "billing": {
                "first_name": first_name,
                "last_name": last_name,
                "company": "",
                "country": country,
                "email": email,
                "phone": "",
            },
            "shipping": {},
            "is_paying_customer": False,
            "meta_data": [],
        }
        shop.customers[customer_id] = customer
        return customer

    def add_order(
        self,
        shop: Shop,
        *,
        customer: dict[str, Any] | None = None,
        items: list[tuple[str, int, str]] | None = None,
        status: str = "processing",
        payment_method: str = "stripe",
        currency: str | None = None,
        transaction_id: str = "",
        number: str | None = None,
        email: str = "",
    ) -> dict[str, Any]:
        """An order placed at checkout; ``items`` are (name, quantity, line total)."""
        at = self.tick()
        order_id = self._id()
        currency = currency or shop.currency
        lines = []
        for name, quantity, total in items or [("T-shirt", 1, "20.00")]:
            lines.append(
                {
                    "id": self._id(),
                    "name": name,
                    "product_id": 10 + len(lines),
                    "variation_id": 0,
                    "quantity": quantity,
                    "subtotal": money(total, currency),
                    "subtotal_tax": money(0, currency),
                    "total": money(total, currency),
                    "total_tax": money(0, currency),
                    "taxes": [],
                    "meta_data": [],
                    "sku": "",
                    "price": float(Decimal(total) / quantity),  # as WooCommerce sends it
                }
            )
        total = sum((Decimal(line["total"]) for line in lines), Decimal(0))
        paid = status in ("processing", "completed", "on-hold-paid")
        status = "on-hold" if status == "on-hold-paid" else status
        billing_email = email or (customer or {}).get("email", "")
        order = {
            "id": order_id,
            "parent_id": 0,
            "number": number or str(order_id),
            "order_key": f"wc_order_{hashlib.sha1(str(order_id).encode()).hexdigest()[:13]}",
            "created_via": "checkout",
            "status": status,
            "currency": currency,
            **self._dates("created", at),
            **self._dates("modified", at),
            "discount_total": money(0, currency),
            "shipping_total": money(0, currency),
            "total": money(total, currency),
            "total_tax": money(0, currency),
            "customer_id": (customer or {}).get("id", 0),
            "customer_note": "",
            "billing": {"email": billing_email, "first_name": "", "last_name": ""},
            "shipping": {},
            "payment_method": payment_method,
            "payment_method_title": shop.gateways.get(payment_method, (payment_method, False))[0],
            "transaction_id": transaction_id,
            **self._dates("paid", at if paid else None),
            **self._dates("completed", at if status == "completed" else None),
            "meta_data": [],
            "line_items": lines,
            "tax_lines": [],
            "shipping_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
        }
        self._pay_url(shop, order)
        shop.orders[order_id] = order
        shop.refunds[order_id] = []
        return order

    def _pay_url(self, shop: Shop, order: dict[str, Any]) -> None:
        order["payment_url"] = (
            f"{self.site_url(shop)}/checkout/order-pay/{order['id']}/"
            f"?pay_for_order=true&key={order['order_key']}"
        )

    def add_coupon(
        self, shop: Shop, *, code: str, amount: str, discount_type: str = "percent"
    ) -> dict[str, Any]:
        at = self.tick()
        coupon_id = self._id()
        coupon = {
            "id": coupon_id,
            "code": code,
            "amount": amount,
            **self._dates("created", at),
            **self._dates("modified", at),
            "discount_type": discount_type,
            "description": "",
            **self._dates("expires", None),
            "usage_count": 0,
            "usage_limit": None,
            "meta_data": [],
        }
        shop.coupons[coupon_id] = coupon
        return coupon

    def add_subscription(
        self,
        shop: Shop,
        *,
        customer: dict[str, Any],
        total: str = "9.00",
        period: str = "month",
        interval: int = 1,
        status: str = "active",
        name: str = "Coffee club",
    ) -> dict[str, Any]:
        if not shop.subscriptions_extension:
            raise AssertionError("this shop has no Subscriptions extension")
        at = self.tick()
        sub_id = self._id()
        sub = {
            "id": sub_id,
            "parent_id": 0,
            "status": status,
            "currency": shop.currency,
            **self._dates("created", at),
            **self._dates("modified", at),
            "customer_id": customer["id"],
            "billing_period": period,
            "billing_interval": str(interval),
            "start_date_gmt": fmt(at),
            "trial_end_date_gmt": "",
            "next_payment_date_gmt": fmt(at + timedelta(days=30)),
            "last_payment_date_gmt": fmt(at),
            "cancelled_date_gmt": "",
            "end_date_gmt": "",
            "total": money(total, shop.currency),
            "payment_method": "stripe",
            "line_items": [
                {
                    "id": self._id(),
                    "name": name,
                    "product_id": 77,
                    "quantity": 1,
                    "total": money(total, shop.currency),
                }
            ],
            "coupon_lines": [],
            "meta_data": [],
        }
        shop.subscriptions[sub_id] = sub
        return sub

    def touch(self, obj: dict[str, Any], at: datetime | None = None) -> None:
        """Modified now (objects are created a month ago, in a row, by ``tick``)."""
        at = at or max(self.tick(), datetime.now(UTC).replace(microsecond=0))
        obj["date_modified"] = obj["date_modified_gmt"] = fmt(at)

    # --- refunds ---------------------------------------------------------------------------
    def refund(self, shop: Shop, order_id: int, body: dict[str, Any]) -> tuple[int, Any]:
        order = shop.orders[order_id]
        currency = order["currency"]
        refunded = sum(Decimal(r["amount"]) for r in shop.refunds[order_id])
        remaining = Decimal(order["total"]) - refunded
        lines = body.get("line_items") or []
        if body.get("amount") not in (None, ""):
            try:
                amount = Decimal(str(body["amount"]))
            except ArithmeticError:
                return _error(400, "rest_invalid_param", "Invalid parameter(s): amount")
        else:
            amount = sum(
                (Decimal(str(line.get("refund_total") or 0)) for line in lines), Decimal(0)
            )
        if amount <= 0:
            return _error(
                400,
                "woocommerce_rest_invalid_order_refund",
                "Refund amount must be greater than zero.",
            )
        if amount > remaining:
            return _error(
                500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount."
            )
        known = {line["id"] for line in order["line_items"]}
        if any(int(line.get("id", 0)) not in known for line in lines):
            return _error(500, "woocommerce_rest_cannot_create_order_refund", "Invalid line item.")
        api_refund = body.get("api_refund", True) not in (False, "false", "0", 0)
        if api_refund:
            _, supports = shop.gateways.get(order["payment_method"], ("", False))
            if not supports:
                return _error(
                    500,
                    "woocommerce_rest_cannot_create_order_refund",
                    "The payment gateway for this order does not support automatic refunds.",
                )
            shop.gateway_refunds.append((order_id, money(amount, currency)))
        at = self.tick()
        refund = {
            "id": self._id(),
            **self._dates("created", at),
            "amount": money(amount, currency),
            "reason": str(body.get("reason") or ""),
            "refunded_by": 1,
            "refunded_payment": api_refund,
            "meta_data": [
                {"id": self._id(), "key": m.get("key"), "value": m.get("value")}
                for m in body.get("meta_data") or []
            ],
            "line_items": [
                {
                    "id": self._id(),
                    "name": "",
                    "product_id": 0,
                    "quantity": -abs(int(line.get("quantity") or 0)),
                    "total": money(-Decimal(str(line.get("refund_total") or 0)), currency),
                    "refunded_item_id": int(line["id"]),
                }
                for line in lines
            ],
            "api_restock": bool(body.get("api_restock")),
        }
        shop.refunds[order_id].insert(0, refund)  # newest first, as WooCommerce lists them
        order["refunds"].insert(
            0,
            {"id": refund["id"], "reason": refund["reason"], "total": money(-amount, currency)},
        )
        if amount == remaining:
            order["status"] = "refunded"
        self.touch(order)
        return 201, refund


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"code": code, "message": message, "data": {"status": status}}


def _parse_when(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    fake: WooFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with fake._lock:
            fake.calls += 1
            if fake.failures:
                status, remaining = fake.failures[0]
                if remaining <= 1:
                    fake.failures.pop(0)
                else:
                    fake.failures[0] = (status, remaining - 1)
                code = "too_many_requests" if status == 429 else "internal_server_error"
                self._send(*_error(status, code, "Injected failure."))
                return
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        # /shops/<name>/wp-json/wc/v3/<route…>
        if len(segments) < 5 or segments[0] != "shops" or segments[2:5] != ["wp-json", "wc", "v3"]:
            self._send(
                *_error(
                    404, "rest_no_route", "No route was found matching the URL and request method."
                )
            )
            return
        shop = fake.shops.get(segments[1])
        if shop is None:
            self._send(404, {"code": "not_found", "message": "No such site."})
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        refusal = self._authenticate(shop, method, parts.path, query)
        if refusal is not None:
            self._send(*refusal)
            return
        for name in list(query):
            if name.startswith("oauth_"):
                query.pop(name)
        with fake._lock:
            fake.log.append((method, "/" + "/".join(segments[5:]), dict(query)))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._send(*_error(400, "rest_invalid_json", "Invalid JSON body passed."))
            return
        with fake._lock:
            answer = self._route(shop, method, segments[5:], query, body)
        self._send(*answer)

    # --- authentication (WC_REST_Authentication) -------------------------------------------
    def _authenticate(
        self, shop: Shop, method: str, path: str, query: dict[str, str]
    ) -> tuple[int, Any] | None:
        if self.fake._tls is not None:
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except ValueError:
                    user = password = ""
            else:
                user, password = query.get("consumer_key", ""), query.get("consumer_secret", "")
            if not user:
                return _error(
                    401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
                )
            if user != shop.key:
                return _error(
                    401, "woocommerce_rest_authentication_error", "Consumer key is invalid."
                )
            if not hmac.compare_digest(password, shop.secret):
                return _error(
                    401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
                )
            return None
        params = {k: v for k, v in query.items()}
        needed = (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        )
        missing = [k for k in needed if not params.get(k)]
        if missing:
            if len(missing) == len(needed):
                return _error(
                    401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
                )
            return _error(
                401, "woocommerce_rest_authentication_error", f"{missing[0]} parameter is missing."
            )
        if params["oauth_consumer_key"] != shop.key:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if params["oauth_signature_method"] not in ("HMAC-SHA1", "HMAC-SHA256"):
            return _error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
            )
        given = params.pop("oauth_signature").replace(" ", "+")
        host = self.headers.get("Host", "")
        expected = php_oauth_signature(method, f"http://{host}{path}", params, shop.secret)
        if not hmac.compare_digest(expected, given):
            return _error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            stamp = 0
        if abs(time.time() - stamp) > OAUTH_WINDOW:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = f"{stamp}:{params['oauth_nonce']}"
        if nonce in shop.nonces:
            return _error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid nonce - nonce has already been used.",
            )
        shop.nonces.add(nonce)
        return None

    # --- routes ----------------------------------------------------------------------------
    def _route(
        self, shop: Shop, method: str, route: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
        fake = self.fake
        no_route = _error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )
        if not route:
            return no_route
        head, rest = route[0], route[1:]
        collections = {
            "customers": (shop.customers, "woocommerce_rest_invalid_id", "Invalid resource ID."),
            "orders": (shop.orders, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
            "coupons": (shop.coupons, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID."),
        }
        if shop.subscriptions_extension:
            collections["subscriptions"] = (
                shop.subscriptions,
                "woocommerce_rest_shop_subscription_invalid_id",
                "Invalid ID.",
            )
        if head == "payment_gateways" and len(rest) == 1 and method == "GET":
            found = shop.gateways.get(rest[0])
            if found is None:
                return _error(
                    404, "woocommerce_rest_payment_gateway_invalid", "Resource does not exist."
                )
            supports = ["products", "refunds"] if found[1] else ["products"]
            return 200, {
                "id": rest[0],
                "title": found[0],
                "enabled": True,
                "method_title": found[0],
                "method_supports": supports,
            }
        if head not in collections:
            return no_route
        store, invalid_code, invalid_text = collections[head]
        if not rest:
            if method == "GET":
                return self._list(head, store, query)
            if method == "POST" and head == "orders":
                return self._create_order(shop, body)
            return no_route
        if not rest[0].isdigit():
            return no_route
        obj = store.get(int(rest[0]))
        if obj is None:
            return _error(404, invalid_code, invalid_text)
        if len(rest) == 1:
            if method == "GET":
                return 200, obj
            if method == "PUT":
                return self._update(shop, head, obj, body)
            return no_route
        if head == "orders" and rest[1] == "refunds":
            if len(rest) == 2 and method == "GET":
                return self._paged(shop.refunds[obj["id"]], query)
            if len(rest) == 2 and method == "POST":
                if not isinstance(body, dict):
                    return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
                return fake.refund(shop, obj["id"], body)
        if head == "orders" and rest[1] == "notes" and len(rest) == 2 and method == "POST":
            note = {
                "id": fake._id(),
                "note": str(body.get("note") or ""),
                "customer_note": bool(body.get("customer_note")),
                "date_created_gmt": fmt(fake.tick()),
            }
            if not note["note"]:
                return _error(400, "rest_missing_callback_param", "Missing parameter(s): note")
            shop.notes.setdefault(obj["id"], []).append(note)
            return 201, note
        return no_route

    def _paged(
        self, items: list[dict[str, Any]], query: dict[str, str]
    ) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", "10"))
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
        if not 1 <= per_page <= MAX_PER_PAGE:
            return _error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page (per_page must be between 1 "
                "(inclusive) and 100 (inclusive))",
            )
        if page < 1:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): page")
        total = len(items)
        pages = math.ceil(total / per_page) if total else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        link = []
        base = self.path.split("?")[0]
        if page < pages:
            link.append(f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"')
        if page > 1:
            link.append(f'<{base}?page={page - 1}&per_page={per_page}>; rel="prev"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if link:
            headers["Link"] = ", ".join(link)
        return 200, chunk, headers

    def _list(
        self, head: str, store: dict[int, dict[str, Any]], query: dict[str, str]
    ) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
        items = list(store.values())
        if "modified_after" in query:
            after = _parse_when(query["modified_after"])
            if after is None or head == "customers":
                return _error(400, "rest_invalid_param", "Invalid parameter(s): modified_after")
            items = [o for o in items if _parse_when(o["date_modified_gmt"]) > after]  # type: ignore[operator]
        if head == "customers":
            role = query.get("role", "customer")
            if role != "all":
                items = [o for o in items if o["role"] == role]
            if "email" in query:
                items = [o for o in items if o["email"] == query["email"]]
        if head in ("orders", "subscriptions"):
            if query.get("status", "any") != "any":
                wanted = set(query["status"].split(","))
                items = [o for o in items if o["status"] in wanted]
            if "customer" in query:
                items = [o for o in items if str(o["customer_id"]) == query["customer"]]
            if query.get("search"):
                needle = query["search"].lower()
                items = [
                    o
                    for o in items
                    if needle in o.get("number", "").lower()
                    or needle in o["billing"].get("email", "").lower()
                ]
        default_by = "name" if head == "customers" else "date"
        orderby = query.get("orderby", default_by)
        order = query.get("order", "asc" if head == "customers" else "desc")
        keys = {
            "id": lambda o: o["id"],
            "date": lambda o: (o["date_created_gmt"], o["id"]),
            "modified": lambda o: (o["date_modified_gmt"], o["id"]),
            "name": lambda o: (o.get("last_name", ""), o["id"]),
            "registered_date": lambda o: (o["date_created_gmt"], o["id"]),
        }
        if orderby not in keys or order not in ("asc", "desc"):
            return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby, order")
        items.sort(key=keys[orderby], reverse=order == "desc")
        return self._paged(items, query)

    def _create_order(self, shop: Shop, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        customer = shop.customers.get(int(body.get("customer_id") or 0))
        if body.get("customer_id") and customer is None:
            return _error(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
        currency = str(body.get("currency") or shop.currency)
        fees = body.get("fee_lines") or []
        order = self.fake.add_order(
            shop,
            customer=customer,
            items=[],
            status=str(body.get("status") or "pending"),
            currency=currency,
            payment_method="",
        )
        order["fee_lines"] = [
            {
                "id": self.fake._id(),
                "name": str(f.get("name") or ""),
                "total": money(f.get("total") or 0, currency),
            }
            for f in fees
        ]
        order["total"] = money(
            sum((Decimal(f["total"]) for f in order["fee_lines"]), Decimal(0)), currency
        )
        order["meta_data"] = [
            {"id": self.fake._id(), "key": m.get("key"), "value": m.get("value")}
            for m in body.get("meta_data") or []
        ]
        order["created_via"] = "rest-api"
        return 201, order

    def _update(self, shop: Shop, head: str, obj: dict[str, Any], body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if head == "subscriptions":
            status = body.get("status")
            if status is not None:
                allowed = {
                    "active": {"on-hold", "cancelled", "pending-cancel", "expired"},
                    "on-hold": {"active", "cancelled"},
                    "pending-cancel": {"cancelled", "active"},
                    "pending": {"active", "cancelled", "on-hold"},
                }
                if status not in allowed.get(obj["status"], set()):
                    return _error(
                        400,
                        "woocommerce_rest_invalid_shop_subscription_status",
                        f'Unable to change subscription status to "{status}".',
                    )
                at = self.fake.tick()
                obj["status"] = status
                if status == "cancelled":
                    obj["cancelled_date_gmt"] = obj["end_date_gmt"] = fmt(at)
                    obj["next_payment_date_gmt"] = ""
                if status == "pending-cancel":
                    obj["cancelled_date_gmt"] = fmt(at)
                    obj["end_date_gmt"] = obj["next_payment_date_gmt"]
                    obj["next_payment_date_gmt"] = ""
            if "coupon_lines" in body:
                kept = []
                for line in body["coupon_lines"]:
                    if "code" in line:
                        found = [c for c in shop.coupons.values() if c["code"] == line["code"]]
                        if not found:
                            return _error(
                                400,
                                "woocommerce_rest_invalid_coupon",
                                f'Coupon "{line["code"]}" does not exist!',
                            )
                        kept.append(
                            {
                                "id": self.fake._id(),
                                "code": line["code"],
                                "discount": found[0]["amount"],
                            }
                        )
                    else:
                        kept += [c for c in obj["coupon_lines"] if c["id"] == line.get("id")]
                obj["coupon_lines"] = kept
        elif head == "orders" and "status" in body:
            obj["status"] = str(body["status"])
        self.fake.touch(obj)
        return 200, obj
