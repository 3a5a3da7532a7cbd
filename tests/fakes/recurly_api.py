"""A fake Recurly v3 API (version v2021-02-25), over real HTTP, for the official ``recurly`` client.

Started as a server on 127.0.0.1 (port 0); an account whose credentials carry
``api_base=http://127.0.0.1:<port>`` gets a client whose connection is pointed here, so the real
client-based connector is what talks to it. Faithful to Recurly where the connector depends on
it (https://recurly.com/developers/api/v2021-02-25/ and the client's ``base_client.py``):

* HTTP Basic auth with the API key as user name and no password (401 ``unauthorized``
  otherwise); the ``Accept: application/vnd.recurly.v2021-02-25`` header (406
  ``invalid_api_version`` without it); answers carry ``Recurly-Version``, ``X-Request-Id`` and the
  ``X-RateLimit-*`` headers, ``Content-Type: application/json; charset=utf-8``.
* Errors are ``{"error": {"type", "message", "params"}}`` (``transaction_error`` on a decline,
  type ``transaction``), with the status Recurly gives the type: 404 ``not_found``, 422
  ``validation`` / ``transaction`` / ``immutable_subscription``, 429 ``rate_limited``, 500
  ``internal_server_error``.
* Lists are ``{"object": "list", "has_more", "next", "data"}``; ``limit`` (1 to 200, default 20),
  ``order`` (asc|desc), ``sort`` (created_at|updated_at), ``begin_time``/``end_time``
  (inclusive, on the sort field), an opaque ``cursor`` in ``next``; ``HEAD`` answers the count
  in ``Recurly-Total-Records``. Ids may be given as ``code-<code>`` (accounts, coupons, plans)
  or ``number-<n>`` (invoices).
* ``Idempotency-Key`` on a POST/PUT/DELETE: a repeated key is answered with the first answer.
* Amounts are decimal numbers in the currency's major unit (``12.34``); the fake keeps them
  as ``Decimal`` and parses bodies with ``parse_float=Decimal``.
* Invoices: a purchase makes a charge invoice paid by a ``purchase`` transaction;
  ``refund_invoice`` makes a credit invoice (negative amounts, origin ``refund``) refunding
  the charge invoice's transaction with a ``refund`` transaction (``original_transaction_id``),
  up to the invoice's ``refundable_amount`` (422 ``validation`` on ``amount`` beyond it).
  ``void_invoice`` voids a pending or past-due one.
* A billing info whose card ends 0002 declines every transaction (Recurly's test card
  4000 0000 0000 0002), as a 422 ``transaction`` error with ``transaction_error``.
* ``fail_next(status, times)`` answers the next requests with that status and Recurly's body.

Objects are arranged through the Python methods below (what the Recurly admin or the
merchant's checkout would have made) and read back through the API by the connector.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSION = "v2021-02-25"
ACCEPT = f"application/vnd.recurly.{API_VERSION}"
DECLINING_LAST4 = "0002"
_EXPONENT = {"JPY": 0, "KRW": 0, "CLP": 0}
_STATUS = {
    "unauthorized": 401,
    "invalid_api_key": 403,
    "not_found": 404,
    "invalid_api_version": 406,
    "validation": 422,
    "transaction": 422,
    "immutable_subscription": 422,
    "bad_request": 400,
    "rate_limited": 429,
    "internal_server_error": 500,
    "service_unavailable": 503,
}
_TYPE_OF_STATUS = {v: k for k, v in reversed(list(_STATUS.items()))}


def money(value: Decimal | str | int, currency: str) -> Decimal:
    exponent = _EXPONENT.get(currency.upper(), 2)
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-exponent))


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # written back as the same digits (the shortest repr)
    if isinstance(value, datetime):
        return stamp(value)
    raise TypeError(f"cannot encode {value!r}")


class RecurlyErrorAnswer(Exception):
    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind, self.message, self.extra = kind, message, extra

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": self.message, "params": [], **self.extra}}


class Site:
    """One Recurly site (what one API key reaches)."""

    def __init__(self, api_key: str, subdomain: str, currency: str) -> None:
        self.api_key, self.subdomain, self.currency = api_key, subdomain, currency
        self.id = "s" + hashlib.sha1(subdomain.encode()).hexdigest()[:11]
        self.accounts: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.redemptions: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}  # pending, by account id
        self.idempotent: dict[str, tuple[str, int, bytes]] = {}
        self.invoice_numbers = itertools.count(1001)


class RecurlyFake:
    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}  # by API key
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.failures: list[list[Any]] = []  # [status, times]
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.clock: datetime | None = None  # fixed "now" when set; else the wall clock
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> RecurlyFake:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def site(self, api_key: str, subdomain: str = "acme", currency: str = "USD") -> Site:
        with self._lock:
            self.sites[api_key] = Site(api_key, subdomain, currency)
            return self.sites[api_key]

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.append([status, times])

    def now(self) -> datetime:
        return (self.clock or datetime.now(UTC)).replace(microsecond=0)

    def _id(self) -> str:
        # Recurly ids: 12 lowercase letters and digits.
        n = next(self._ids)
        return "r" + hashlib.sha1(str(n).encode()).hexdigest()[:11]

    # --- arranging objects ---------------------------------------------------------------
    def add_account(
        self,
        site: Site,
        *,
        email: str = "",
        code: str | None = None,
        account_id: str | None = None,
        first_name: str = "",
        last_name: str = "",
        company: str = "",
        country: str = "US",
        vat_number: str = "",
        at: datetime | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            when = at or self.now()
            ident = account_id or self._id()
            account = {
                "id": ident,
                "object": "account",
                "code": code or f"acct-{ident}",
                "state": "active",
                "hosted_login_token": hashlib.sha1(ident.encode()).hexdigest()[:32],
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "company": company,
                "vat_number": vat_number,
                "tax_exempt": False,
                "preferred_locale": "en-US",
                "cc_emails": "",
                "address": {"country": country, "postal_code": "", "city": ""},
                "billing_info": None,
                "has_active_subscription": False,
                "created_at": when,
                "updated_at": when,
                "deleted_at": None,
            }
            site.accounts[ident] = account
            return account

    def set_account(self, site: Site, account_id: str, *, at: datetime, **fields: Any) -> None:
        with self._lock:
            account = site.accounts[account_id]
            account.update(fields, updated_at=at)

    def add_card(
        self, site: Site, account_id: str, *, last4: str = "1111", brand: str = "Visa"
    ) -> dict[str, Any]:
        with self._lock:
            account = site.accounts[account_id]
            now = self.now()
            info = {
                "id": self._id(),
                "object": "billing_info",
                "account_id": account_id,
                "first_name": account["first_name"],
                "last_name": account["last_name"],
                "company": account["company"],
                "valid": True,
                "primary_payment_method": True,
                "backup_payment_method": False,
                "payment_method": {
                    "object": "credit_card",
                    "card_type": brand,
                    "first_six": "411111",
                    "last_four": last4,
                    "exp_month": 12,
                    "exp_year": 2040,
                },
                "created_at": now,
                "updated_at": now,
            }
            account["billing_info"] = info
            account["updated_at"] = now
            return info

    def add_plan(
        self,
        site: Site,
        code: str,
        *,
        amount: str = "10.00",
        name: str = "",
        interval_unit: str = "months",
        interval_length: int = 1,
        add_ons: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            plan = {
                "id": self._id(),
                "object": "plan",
                "code": code,
                "name": name or code.title(),
                "state": "active",
                "interval_unit": interval_unit,
                "interval_length": interval_length,
                "currencies": [
                    {"currency": site.currency, "unit_amount": money(amount, site.currency)}
                ],
                "add_ons": {k: money(v, site.currency) for k, v in (add_ons or {}).items()},
                "created_at": now,
                "updated_at": now,
            }
            site.plans[plan["id"]] = plan
            return plan

    def add_coupon(
        self,
        site: Site,
        code: str,
        *,
        percent: int | None = None,
        amount: str | None = None,
        duration: str = "forever",
    ) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            coupon = {
                "id": self._id(),
                "object": "coupon",
                "code": code,
                "name": code.title(),
                "state": "redeemable",
                "discount": (
                    {"type": "percent", "percent": percent}
                    if percent is not None
                    else {
                        "type": "fixed",
                        "currencies": [
                            {
                                "currency": site.currency,
                                "amount": money(amount or "0", site.currency),
                            }
                        ],
                    }
                ),
                "duration": duration,
                "temporal_unit": None,
                "temporal_amount": None,
                "coupon_type": "single_code",
                "created_at": now,
                "updated_at": now,
                "expired_at": None,
            }
            site.coupons[coupon["id"]] = coupon
            return coupon

    def purchase(
        self, site: Site, account_id: str, amount: str, *, description: str = "One-off"
    ) -> dict[str, Any]:
        """A paid charge invoice for ``amount``, with its purchase transaction (raises the
        error answer on a decline)."""
        with self._lock:
            invoice = self._charge_invoice(
                site,
                account_id,
                [{"description": description, "unit_amount": money(amount, site.currency)}],
                collection_method="automatic",
                origin="purchase",
            )
            return invoice

    def add_subscription(
        self, site: Site, account_id: str, plan_code: str, **body: Any
    ) -> dict[str, Any]:
        with self._lock:
            return self._subscribe(
                site, {"plan_code": plan_code, "account": {"id": account_id}, **body}
            )

    # --- the model -------------------------------------------------------------------------
    def _account(self, site: Site, ident: str) -> dict[str, Any]:
        if ident.startswith("code-"):
            found = [a for a in site.accounts.values() if a["code"] == ident[5:]]
            if found:
                return found[0]
        elif ident in site.accounts:
            return site.accounts[ident]
        raise RecurlyErrorAnswer("not_found", f"Couldn't find Account with id = {ident}")

    def _by(
        self, table: dict[str, dict[str, Any]], ident: str, what: str, key: str
    ) -> dict[str, Any]:
        prefix = f"{key}-"
        if ident.startswith(prefix):
            found = [o for o in table.values() if str(o[key]) == ident[len(prefix) :]]
            if found:
                return found[0]
        elif ident in table:
            return table[ident]
        raise RecurlyErrorAnswer("not_found", f"Couldn't find {what} with id = {ident}")

    @staticmethod
    def _mini(account: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": account["id"],
            "object": "account_mini",
            "code": account["code"],
            "email": account["email"],
            "first_name": account["first_name"],
            "last_name": account["last_name"],
            "company": account["company"],
        }

    def _transaction(
        self,
        site: Site,
        account: dict[str, Any],
        invoice: dict[str, Any],
        amount: Decimal,
        kind: str,
        original: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = self.now()
        info = account.get("billing_info") or {}
        method = dict(info.get("payment_method") or {"object": "credit_card"})
        declined = kind == "purchase" and method.get("last_four") == DECLINING_LAST4
        txn = {
            "id": self._id(),
            "object": "transaction",
            "uuid": hashlib.md5(str(next(self._ids)).encode()).hexdigest(),
            "original_transaction_id": original["id"] if original else None,
            "account": self._mini(account),
            "invoice": {
                "id": invoice["id"],
                "object": "invoice_mini",
                "number": invoice["number"],
                "type": invoice["type"],
                "state": invoice["state"],
            },
            "subscription_ids": list(invoice["subscription_ids"]),
            "type": kind,
            "origin": "api",
            "currency": invoice["currency"],
            "amount": amount,
            "status": "declined" if declined else "success",
            "success": not declined,
            "refunded": False,
            "payment_method": method,
            "status_code": "declined" if declined else None,
            "status_message": "Transaction declined" if declined else "Transaction approved",
            "customer_message": "Your card was declined." if declined else None,
            "collected_at": None if declined else now,
            "created_at": now,
            "updated_at": now,
            "voided_at": None,
        }
        site.transactions[txn["id"]] = txn
        return txn

    def _invoice(
        self,
        site: Site,
        account: dict[str, Any],
        kind: str,
        origin: str,
        lines: list[dict[str, Any]],
        *,
        collection_method: str = "automatic",
        subscription_ids: list[str] | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        now = self.now()
        currency = currency or site.currency
        items = []
        for line in lines:
            quantity = int(line.get("quantity", 1))
            amount = money(line["unit_amount"], currency) * quantity
            items.append(
                {
                    "id": self._id(),
                    "object": "line_item",
                    "type": "credit" if kind == "credit" else "charge",
                    "description": line.get("description", ""),
                    "unit_amount": money(line["unit_amount"], currency),
                    "quantity": quantity,
                    "amount": amount,
                    "subtotal": amount,
                    "refunded_quantity": 0,
                    "original_line_item_invoice_id": line.get("original_invoice_id"),
                    "previous_line_item_id": line.get("previous_line_item_id"),
                    "subscription_id": line.get("subscription_id"),
                    "plan_code": line.get("plan_code"),
                    "add_on_code": line.get("add_on_code"),
                    "currency": currency,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        subtotal = sum((i["amount"] for i in items), Decimal(0))
        discount = money(lines[0].get("discount", 0), currency) if lines else Decimal(0)
        total = subtotal - discount
        invoice = {
            "id": self._id(),
            "object": "invoice",
            "uuid": hashlib.md5(str(next(self._ids)).encode()).hexdigest(),
            "type": kind,
            "origin": origin,
            "state": "pending",
            "account": self._mini(account),
            "subscription_ids": list(subscription_ids or []),
            "previous_invoice_id": None,
            "number": str(next(site.invoice_numbers)),
            "collection_method": collection_method,
            "net_terms": 0 if collection_method == "automatic" else 30,
            "currency": currency,
            "discount": discount,
            "subtotal": subtotal,
            "tax": money(0, currency),
            "total": total,
            "paid": money(0, currency),
            "balance": total,
            "refundable_amount": money(0, currency),
            "vat_number": account["vat_number"],
            "line_items": items,
            "transactions": [],
            "created_at": now,
            "updated_at": now,
            "due_at": now + timedelta(days=0 if collection_method == "automatic" else 30),
            "closed_at": None,
        }
        site.invoices[invoice["id"]] = invoice
        return invoice

    def _charge_invoice(
        self,
        site: Site,
        account_id: str,
        lines: list[dict[str, Any]],
        *,
        collection_method: str,
        origin: str,
        subscription_ids: list[str] | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        account = self._account(site, account_id)
        invoice = self._invoice(
            site,
            account,
            "charge",
            origin,
            lines,
            collection_method=collection_method,
            subscription_ids=subscription_ids,
            currency=currency,
        )
        if collection_method == "automatic" and invoice["total"] > 0:
            txn = self._transaction(site, account, invoice, invoice["total"], "purchase")
            invoice["transactions"].append(txn["id"])
            if not txn["success"]:
                invoice["state"] = "failed"
                raise RecurlyErrorAnswer(
                    "transaction",
                    "Your card was declined.",
                    transaction_error={
                        "object": "transaction_error",
                        "transaction_id": txn["id"],
                        "category": "hard",
                        "code": "declined",
                        "decline_code": "do_not_honor",
                        "message": "Your card was declined.",
                        "merchant_advice": "The card was declined.",
                    },
                )
            self._settle(invoice, txn["amount"])
        return invoice

    def _settle(self, invoice: dict[str, Any], amount: Decimal) -> None:
        invoice.update(
            state="paid",
            paid=amount,
            balance=invoice["total"] - amount,
            refundable_amount=amount,
            closed_at=self.now(),
            updated_at=self.now(),
        )

    def _subscribe(self, site: Site, body: dict[str, Any]) -> dict[str, Any]:
        account_ref = body.get("account") or {}
        ident = account_ref.get("id") or (
            f"code-{account_ref['code']}" if account_ref.get("code") else ""
        )
        if not ident:
            raise RecurlyErrorAnswer(
                "validation",
                "Account can't be blank",
                params=[{"param": "account", "message": "can't be blank"}],
            )
        account = self._account(site, ident)
        plans = [p for p in site.plans.values() if p["code"] == body.get("plan_code")]
        if not plans:
            raise RecurlyErrorAnswer(
                "validation",
                "Plan code is invalid",
                params=[{"param": "plan_code", "message": "is invalid"}],
            )
        plan = plans[0]
        currency = str(body.get("currency") or site.currency)
        unit = plan["currencies"][0]["unit_amount"]
        quantity = int(body.get("quantity", 1))
        now = self.now()
        add_ons = [
            {
                "id": self._id(),
                "object": "subscription_add_on",
                "add_on": {"object": "add_on_mini", "code": a["code"], "name": a["code"].title()},
                "unit_amount": plan["add_ons"].get(a["code"], money(0, currency)),
                "quantity": int(a.get("quantity", 1)),
                "created_at": now,
                "updated_at": now,
            }
            for a in body.get("add_ons") or []
        ]
        subtotal = unit * quantity + sum(
            (a["unit_amount"] * a["quantity"] for a in add_ons), Decimal(0)
        )
        months = plan["interval_length"] if plan["interval_unit"] == "months" else 0
        days = plan["interval_length"] if plan["interval_unit"] == "days" else 0
        trial_ends = body.get("trial_ends_at")
        end = now + timedelta(days=days + 30 * months)
        sub = {
            "id": self._id(),
            "object": "subscription",
            "uuid": hashlib.md5(str(next(self._ids)).encode()).hexdigest(),
            "account": self._mini(account),
            "plan": {
                "id": plan["id"],
                "object": "plan_mini",
                "code": plan["code"],
                "name": plan["name"],
            },
            "state": "in_trial" if trial_ends else "active",
            "currency": currency,
            "unit_amount": unit,
            "quantity": quantity,
            "add_ons": add_ons,
            "subtotal": subtotal,
            "collection_method": "automatic",
            "auto_renew": True,
            "coupon_redemptions": [],
            "current_period_started_at": now,
            "current_period_ends_at": datetime.fromisoformat(trial_ends) if trial_ends else end,
            "current_term_started_at": now,
            "current_term_ends_at": end,
            "trial_started_at": now if trial_ends else None,
            "trial_ends_at": datetime.fromisoformat(trial_ends) if trial_ends else None,
            "activated_at": now,
            "canceled_at": None,
            "expires_at": None,
            "paused_at": None,
            "created_at": now,
            "updated_at": now,
        }
        codes = body.get("coupon_codes") or []
        if not trial_ends:
            lines = [
                {
                    "description": plan["name"],
                    "unit_amount": unit,
                    "quantity": quantity,
                    "subscription_id": sub["id"],
                    "plan_code": plan["code"],
                }
            ] + [
                {
                    "description": a["add_on"]["name"],
                    "unit_amount": a["unit_amount"],
                    "quantity": a["quantity"],
                    "subscription_id": sub["id"],
                    "add_on_code": a["add_on"]["code"],
                }
                for a in add_ons
            ]
            self._charge_invoice(
                site,
                account["id"],
                lines,
                collection_method="automatic",
                origin="purchase",
                subscription_ids=[sub["id"]],
                currency=currency,
            )
        site.subscriptions[sub["id"]] = sub
        for code in codes:
            self._redeem(site, account, {"coupon_id": f"code-{code}"}, sub)
        account["has_active_subscription"] = True
        account["updated_at"] = now
        return sub

    def _redeem(
        self,
        site: Site,
        account: dict[str, Any],
        body: dict[str, Any],
        sub: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        coupon = self._by(site.coupons, str(body.get("coupon_id") or ""), "Coupon", "code")
        active = [
            r
            for r in site.redemptions.values()
            if r["account"]["id"] == account["id"] and r["state"] == "active"
        ]
        if any(r["coupon"]["id"] == coupon["id"] for r in active):
            raise RecurlyErrorAnswer(
                "validation",
                "Coupon has already been redeemed by this account",
                params=[{"param": "coupon_id", "message": "has already been redeemed"}],
            )
        now = self.now()
        redemption = {
            "id": self._id(),
            "object": "coupon_redemption",
            "account": self._mini(account),
            "subscription_id": sub["id"] if sub else None,
            "coupon": copy.deepcopy(coupon),
            "state": "active",
            "currency": body.get("currency") or site.currency,
            "discounted": money(0, site.currency),
            "created_at": now,
            "updated_at": now,
            "removed_at": None,
        }
        site.redemptions[redemption["id"]] = redemption
        if sub is not None:
            sub["coupon_redemptions"].append(
                {
                    k: redemption[k]
                    for k in ("id", "object", "coupon", "state", "discounted", "created_at")
                }
                | {"object": "coupon_redemption_mini"}
            )
            sub["updated_at"] = now
        return redemption

    def _refund(self, site: Site, invoice: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        currency = invoice["currency"]
        kind = body.get("type")
        if invoice["type"] != "charge" or invoice["state"] != "paid":
            raise RecurlyErrorAnswer(
                "validation",
                "Invoice must be a paid charge invoice to be refunded",
                params=[{"param": "invoice", "message": "is not refundable"}],
            )
        refundable: Decimal = invoice["refundable_amount"]
        lines: list[dict[str, Any]]
        if kind == "amount":
            amount = refundable if body.get("amount") is None else money(body["amount"], currency)
            lines = [
                {"description": f"Refund for invoice #{invoice['number']}", "unit_amount": -amount}
            ]
        elif kind == "line_items":
            lines, amount = [], Decimal(0)
            by_id = {i["id"]: i for i in invoice["line_items"]}
            for wanted in body.get("line_items") or []:
                item = by_id.get(wanted.get("id"))
                if item is None:
                    raise RecurlyErrorAnswer(
                        "validation",
                        "Line item is invalid",
                        params=[{"param": "line_items", "message": "is invalid"}],
                    )
                quantity = int(wanted.get("quantity", item["quantity"]))
                if quantity > item["quantity"] - item["refunded_quantity"]:
                    raise RecurlyErrorAnswer(
                        "validation",
                        "Quantity exceeds the refundable quantity",
                        params=[{"param": "quantity", "message": "exceeds refundable quantity"}],
                    )
                item["refunded_quantity"] += quantity
                part = item["unit_amount"] * quantity
                amount += part
                lines.append(
                    {
                        "description": item["description"],
                        "unit_amount": -item["unit_amount"],
                        "quantity": quantity,
                        "previous_line_item_id": item["id"],
                        "original_invoice_id": invoice["id"],
                    }
                )
        else:
            raise RecurlyErrorAnswer(
                "validation",
                "Type is invalid",
                params=[{"param": "type", "message": "must be amount, percentage or line_items"}],
            )
        if amount <= 0 or amount > refundable:
            raise RecurlyErrorAnswer(
                "validation",
                f"Amount cannot exceed the refundable amount of {refundable}",
                params=[
                    {
                        "param": "amount",
                        "message": f"cannot exceed the refundable amount of {refundable}",
                    }
                ],
            )
        account = self._account(site, invoice["account"]["id"])
        credit = self._invoice(site, account, "credit", "refund", lines, currency=currency)
        credit.update(
            previous_invoice_id=invoice["id"], subscription_ids=invoice["subscription_ids"]
        )
        original = site.transactions[invoice["transactions"][0]]
        refund = self._transaction(site, account, credit, amount, "refund", original)
        credit["transactions"].append(refund["id"])
        credit.update(
            state="closed", paid=-amount, balance=money(0, currency), closed_at=self.now()
        )
        now = self.now()
        original.update(refunded=True, updated_at=now)
        invoice.update(refundable_amount=refundable - amount, updated_at=now)
        return credit

    def renew_into_pause(self, site: Site, subscription_id: str) -> None:
        """The renewal date of a subscription with a pause scheduled: it is now paused."""
        sub = site.subscriptions[subscription_id]
        assert sub.get("paused_at"), "no pause scheduled"
        self._advance(sub, state="paused")

    def _advance(self, sub: dict[str, Any], **fields: Any) -> None:
        sub.update(fields, updated_at=self.now())

    # --- wire ------------------------------------------------------------------------------
    def wire(self, site: Site, obj: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        if obj.get("object") == "invoice":
            out["transactions"] = [
                self.wire(site, site.transactions[t]) for t in obj["transactions"]
            ]
        if obj.get("object") == "transaction":
            invoice = site.invoices.get(obj["invoice"]["id"])
            if invoice:
                out["invoice"]["state"] = invoice["state"]
        if obj.get("object") == "plan":
            out.pop("add_ons", None)
        return out


def _matches_time(obj: dict[str, Any], field: str, begin: str | None, end: str | None) -> bool:
    value = obj.get(field)
    if not isinstance(value, datetime):
        return True
    if begin and value < _when(begin):
        return False
    return not (end and value > _when(end))


def _when(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RecurlyErrorAnswer(
            "bad_request",
            f"{text} is not a valid ISO 8601 time",
            params=[{"param": "begin_time", "message": "is invalid"}],
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class _Handler(BaseHTTPRequestHandler):
    fake: RecurlyFake
    protocol_version = "HTTP/1.1"  # the client keeps one connection open

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Recurly-Version", f"recurly.{API_VERSION}")
        self.send_header("X-Request-Id", hashlib.md5(self.path.encode()).hexdigest()[:20])
        self.send_header("X-RateLimit-Limit", "2000")
        self.send_header("X-RateLimit-Remaining", "1999")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, error: RecurlyErrorAnswer, status: int | None = None) -> None:
        code = status or _STATUS.get(error.kind, 400)
        self._send(code, json.dumps(error.body(), default=_encode).encode())

    def _handle(self, method: str) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        fake.requests.append((method, parts.path))
        with fake._lock:
            if fake.failures:
                status, times = fake.failures[0]
                fake.failures[0][1] = times - 1
                if fake.failures[0][1] <= 0:
                    fake.failures.pop(0)
                kind = _TYPE_OF_STATUS.get(status, "internal_server_error")
                return self._error(RecurlyErrorAnswer(kind, f"Injected {status}"), status)
        site = self._site()
        if site is None:
            return self._error(
                RecurlyErrorAnswer("unauthorized", "Please provide a valid API key.")
            )
        accept = self.headers.get("Accept", "")
        if not accept.startswith(ACCEPT):
            return self._error(
                RecurlyErrorAnswer(
                    "invalid_api_version",
                    f"Accept header must name an API version, e.g. {ACCEPT}",
                )
            )
        try:
            body = json.loads(raw, parse_float=Decimal) if raw else {}
        except ValueError:
            return self._error(RecurlyErrorAnswer("bad_request", "The request body is not JSON."))
        key = self.headers.get("Idempotency-Key")
        signature = f"{method} {self.path} {hashlib.sha256(raw).hexdigest()}"
        with fake._lock:
            if key and method != "GET" and key in site.idempotent:
                first, status, answer = site.idempotent[key]
                if first != signature:
                    return self._error(
                        RecurlyErrorAnswer(
                            "bad_request",
                            "This Idempotency-Key was already used for a different request.",
                        )
                    )
                return self._send(status, answer)
            try:
                status, answer, headers = self._route(
                    site, method, parts.path, parse_qs(parts.query), body
                )
                payload = (
                    json.dumps(answer, default=_encode).encode() if answer is not None else b""
                )
            except RecurlyErrorAnswer as error:
                status = _STATUS.get(error.kind, 400)
                payload, headers = json.dumps(error.body(), default=_encode).encode(), {}
            if key and method != "GET" and status < 500:
                site.idempotent[key] = (signature, status, payload)
        self._send(status, payload, headers)

    def _site(self) -> Site | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return self.fake.sites.get(user)

    def _list(
        self,
        site: Site,
        path: str,
        items: list[dict[str, Any]],
        query: dict[str, list[str]],
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        q = {k: v[0] for k, v in query.items()}
        sort = q.get("sort", "created_at")
        if sort not in ("created_at", "updated_at"):
            raise RecurlyErrorAnswer("bad_request", "sort must be created_at or updated_at")
        order = q.get("order", "desc")
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 200:
            raise RecurlyErrorAnswer(
                "bad_request",
                "limit must be between 1 and 200",
                params=[{"param": "limit", "message": "must be between 1 and 200"}],
            )
        chosen = [
            i for i in items if _matches_time(i, sort, q.get("begin_time"), q.get("end_time"))
        ]
        for field in ("email", "state", "type"):
            if field in q:
                chosen = [i for i in chosen if str(i.get(field)) == q[field]]
        chosen.sort(key=lambda i: (i[sort], i["id"]), reverse=order == "desc")
        total = {"Recurly-Total-Records": str(len(chosen))}
        if self.command == "HEAD":
            return 200, None, total
        offset = int(q.get("cursor", "0") or 0)
        page = chosen[offset : offset + limit]
        more = offset + limit < len(chosen)
        nxt = None
        if more:
            params = {k: v for k, v in q.items() if k != "cursor"} | {"cursor": str(offset + limit)}
            nxt = f"{path}?{urlencode(params)}"
        data = [self.fake.wire(site, i) for i in page]
        return 200, {"object": "list", "has_more": more, "next": nxt, "data": data}, total

    def _route(
        self,
        site: Site,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: dict[str, Any],
    ) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        segments = [s for s in path.split("/") if s]
        if method in ("GET", "HEAD") and len(segments) == 1:
            table = {
                "accounts": site.accounts,
                "subscriptions": site.subscriptions,
                "invoices": site.invoices,
                "transactions": site.transactions,
                "coupons": site.coupons,
                "plans": site.plans,
            }.get(segments[0])
            if segments[0] == "sites":
                wire = {
                    "id": site.id,
                    "object": "site",
                    "subdomain": site.subdomain,
                    "mode": "sandbox",
                    "created_at": fake.now(),
                    "updated_at": fake.now(),
                }
                return 200, {"object": "list", "has_more": False, "next": None, "data": [wire]}, {}
            if table is not None:
                return self._list(site, path, list(table.values()), query)
        if segments[:1] == ["accounts"] and len(segments) >= 2:
            account = fake._account(site, segments[1])
            rest = segments[2:]
            if not rest and method == "GET":
                return 200, fake.wire(site, account), {}
            if not rest and method == "PUT":
                allowed = {"email", "first_name", "last_name", "company", "vat_number", "cc_emails"}
                unknown = set(body) - allowed
                if unknown:
                    raise RecurlyErrorAnswer(
                        "validation",
                        f"{sorted(unknown)[0]} is not a permitted parameter",
                        params=[{"param": sorted(unknown)[0], "message": "is not permitted"}],
                    )
                account.update(body, updated_at=fake.now())
                return 200, fake.wire(site, account), {}
            if rest == ["billing_info"] and method == "GET":
                if not account["billing_info"]:
                    raise RecurlyErrorAnswer("not_found", "Couldn't find BillingInfo")
                return 200, account["billing_info"], {}
            if rest == ["transactions"] and method in ("GET", "HEAD"):
                mine = [
                    t for t in site.transactions.values() if t["account"]["id"] == account["id"]
                ]
                return self._list(site, path, mine, query)
            if rest[:1] == ["coupon_redemptions"] and method in ("GET", "HEAD"):
                mine = [r for r in site.redemptions.values() if r["account"]["id"] == account["id"]]
                if rest[1:] == ["active"]:
                    mine = [r for r in mine if r["state"] == "active"]
                return self._list(site, path, mine, query)
            if rest == ["coupon_redemptions", "active"] and method == "POST":
                return 201, fake._redeem(site, account, body), {}
            if rest == ["line_items"] and method == "POST":
                if "unit_amount" not in body or not body.get("currency"):
                    raise RecurlyErrorAnswer(
                        "validation",
                        "Unit amount and currency are required",
                        params=[{"param": "unit_amount", "message": "can't be blank"}],
                    )
                item = {"id": fake._id(), "object": "line_item", **body}
                site.line_items.setdefault(account["id"], []).append(item)
                return 201, item, {}
            if rest == ["invoices"] and method == "POST":
                pending = site.line_items.pop(account["id"], [])
                if not pending:
                    raise RecurlyErrorAnswer(
                        "validation",
                        "No pending line items to invoice",
                        params=[{"param": "line_items", "message": "none pending"}],
                    )
                invoice = fake._charge_invoice(
                    site,
                    account["id"],
                    pending,
                    origin="line_item_list",
                    collection_method=str(body.get("collection_method") or "automatic"),
                    currency=str(body.get("currency") or site.currency),
                )
                collection = {
                    "object": "invoice_collection",
                    "charge_invoice": fake.wire(site, invoice),
                    "credit_invoices": [],
                }
                return 201, collection, {}
        if segments[:1] == ["subscriptions"]:
            if len(segments) == 1 and method == "POST":
                return 201, fake.wire(site, fake._subscribe(site, body)), {}
            if len(segments) >= 2:
                sub = fake._by(site.subscriptions, segments[1], "Subscription", "uuid")
                rest = segments[2:]
                if not rest and method == "GET":
                    return 200, fake.wire(site, sub), {}
                if rest == ["cancel"] and method == "PUT":
                    if sub["state"] not in ("active", "in_trial"):
                        raise RecurlyErrorAnswer(
                            "immutable_subscription",
                            f"A {sub['state']} subscription cannot be canceled",
                        )
                    timeframe = body.get("timeframe", "term_end")
                    end = (
                        sub["current_term_ends_at"]
                        if timeframe == "term_end"
                        else sub["current_period_ends_at"]
                    )
                    fake._advance(sub, state="canceled", canceled_at=fake.now(), expires_at=end)
                    return 200, fake.wire(site, sub), {}
                if rest == ["pause"] and method == "PUT":
                    # Recurly pauses at the next renewal: until then the subscription stays
                    # active with ``paused_at`` (when the pause starts) set.
                    cycles = body.get("remaining_pause_cycles")
                    if not isinstance(cycles, int) or isinstance(cycles, bool) or cycles < 0:
                        raise RecurlyErrorAnswer(
                            "validation",
                            "remaining_pause_cycles is required",
                            params=[{"param": "remaining_pause_cycles", "message": "is invalid"}],
                        )
                    if sub["state"] not in ("active", "paused"):
                        raise RecurlyErrorAnswer(
                            "immutable_subscription",
                            f"A {sub['state']} subscription cannot be paused",
                        )
                    at = sub["paused_at"] or sub["current_period_ends_at"]
                    fake._advance(sub, paused_at=at, remaining_pause_cycles=cycles)
                    return 200, fake.wire(site, sub), {}
                if rest == ["resume"] and method == "PUT":
                    if sub["state"] != "paused" and not sub.get("paused_at"):
                        raise RecurlyErrorAnswer(
                            "invalid_transition",
                            "Only a paused subscription or one with a pause scheduled can resume",
                        )
                    fake._advance(sub, state="active", paused_at=None, remaining_pause_cycles=None)
                    return 200, fake.wire(site, sub), {}
                if rest == ["reactivate"] and method == "PUT":
                    if sub["state"] != "canceled":
                        raise RecurlyErrorAnswer(
                            "immutable_subscription",
                            "Only a canceled subscription can be reactivated",
                        )
                    fake._advance(sub, state="active", canceled_at=None, expires_at=None)
                    return 200, fake.wire(site, sub), {}
                if not rest and method == "DELETE":
                    if sub["state"] == "expired":
                        raise RecurlyErrorAnswer(
                            "immutable_subscription", "The subscription has already expired"
                        )
                    refund = (query.get("refund") or ["none"])[0]
                    if refund not in ("full", "partial", "none"):
                        raise RecurlyErrorAnswer(
                            "validation",
                            "refund must be full, partial or none",
                            params=[{"param": "refund", "message": "is invalid"}],
                        )
                    if refund != "none":
                        paid = [
                            i
                            for i in site.invoices.values()
                            if sub["id"] in i["subscription_ids"]
                            and i["type"] == "charge"
                            and i["state"] == "paid"
                            and i["refundable_amount"] > 0
                        ]
                        if paid:
                            last = max(paid, key=lambda i: i["created_at"])
                            amount = last["refundable_amount"]
                            if refund == "partial":
                                amount = money(amount / 2, last["currency"])  # the unused half
                            fake._refund(site, last, {"type": "amount", "amount": amount})
                    now = fake.now()
                    fake._advance(
                        sub, state="expired", expires_at=now, canceled_at=sub["canceled_at"] or now
                    )
                    return 200, fake.wire(site, sub), {}
        if segments[:1] == ["invoices"] and len(segments) >= 2:
            invoice = fake._by(site.invoices, segments[1], "Invoice", "number")
            rest = segments[2:]
            if not rest and method == "GET":
                return 200, fake.wire(site, invoice), {}
            if rest == ["void"] and method == "PUT":
                if invoice["state"] not in ("pending", "past_due", "processing", "failed"):
                    raise RecurlyErrorAnswer(
                        "validation",
                        f"A {invoice['state']} invoice cannot be voided",
                        params=[{"param": "state", "message": "cannot be voided"}],
                    )
                invoice.update(
                    state="voided",
                    balance=money(0, invoice["currency"]),
                    closed_at=fake.now(),
                    updated_at=fake.now(),
                )
                return 200, fake.wire(site, invoice), {}
            if rest == ["refund"] and method == "POST":
                return 201, fake.wire(site, fake._refund(site, invoice, body)), {}
        if segments[:1] == ["transactions"] and len(segments) == 2 and method == "GET":
            return (
                200,
                fake.wire(site, fake._by(site.transactions, segments[1], "Transaction", "uuid")),
                {},
            )
        if segments[:1] == ["coupons"] and len(segments) == 2 and method == "GET":
            return 200, fake.wire(site, fake._by(site.coupons, segments[1], "Coupon", "code")), {}
        if segments[:1] == ["plans"] and len(segments) == 2 and method == "GET":
            return 200, fake.wire(site, fake._by(site.plans, segments[1], "Plan", "code")), {}
        raise RecurlyErrorAnswer("not_found", f"The requested URL {path} was not found")


def iter_objects(site: Site) -> Iterator[dict[str, Any]]:
    yield from site.accounts.values()
    yield from site.transactions.values()
