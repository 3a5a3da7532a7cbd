"""A small HTTP fake of the Stripe endpoints localstripe does not serve.

Built from Stripe's API reference (https://docs.stripe.com/api) for exactly what the
connector's tests need and localstripe 1.15.10 lacks (see shared/reference/gateways.md §1.5):
disputes, Prices, subscriptions with ``items[][price]`` and ``discounts``, invoice
finalize/send/void, Checkout Sessions, replay of ``Idempotency-Key``, over-refund errors, and
injected 429/5xx answers. Any other path is forwarded to ``upstream`` (a localstripe) when
one is given, so one base URL can serve a whole backfill.

It records every request it sees, so tests can count API calls from the server's side.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``items[0][price]=x&expand[0]=y``) -> nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            if isinstance(node, list):
                index = int(part) if part else len(node)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if (nxt == "" or (nxt or "").isdigit()) else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if (nxt == "" or (nxt or "").isdigit()) else {})
    return root


def _parse_multipart(body: str, ctype: str) -> tuple[dict[str, Any], str]:
    """A multipart/form-data body (as latin-1 text) -> its fields (files as bytes, their
    name in ``filename``), and a stable digest of them standing for the body in idempotency
    checks (the boundary differs on every retry)."""
    boundary = ctype.partition("boundary=")[2].strip('"')
    fields: dict[str, Any] = {}
    for chunk in body.split(f"--{boundary}"):
        head, sep, value = chunk.partition("\r\n\r\n")
        if not sep or 'name="' not in head:
            continue
        name = head.split('name="', 1)[1].split('"', 1)[0]
        value = value.removesuffix("\r\n")
        if 'filename="' in head:
            fields[name] = value.encode("latin-1")
            fields["filename"] = head.split('filename="', 1)[1].split('"', 1)[0]
        else:
            fields[name] = value
    digest = hashlib.sha256(
        repr(sorted((k, v if isinstance(v, str) else v.hex()) for k, v in fields.items())).encode()
    ).hexdigest()
    return fields, digest


def _err(status: int, kind: str, message: str, code: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, "code": code or None}}


class StripeFake:
    """Run with ``with StripeFake(upstream=url) as fake: fake.url``."""

    def __init__(self, *, upstream: str | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.objects: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}  # uploaded File objects' content, by id
        self.requests: list[tuple[str, str]] = []  # (method, path) as received
        self.idempotency_keys: list[tuple[str, str]] = []  # (path, Idempotency-Key) of writes
        self.failures: list[tuple[str, int]] = []  # (path prefix, status) to answer next
        self._idempotent: dict[str, tuple[str, int, bytes]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> StripeFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                # A multipart upload (files.stripe.com) carries binary: kept byte for byte.
                multipart = "multipart/form-data" in self.headers.get("Content-Type", "")
                body = raw.decode("latin-1" if multipart else "utf-8")
                status, payload, headers = fake.handle(
                    self.command, self.path, body, dict(self.headers.items())
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, path_prefix: str, status: int, times: int = 1) -> None:
        self.failures.extend([(path_prefix, status)] * times)

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("created", int(time.time()))
        obj.setdefault("livemode", False)
        self.objects[obj["id"]] = obj
        return obj

    def calls(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    # --- dispatch -------------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, body: str, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        split = urlsplit(raw_path)
        path = split.path
        with self._lock:
            self.requests.append((method, path))
            if method in ("POST", "DELETE"):
                self.idempotency_keys.append((path, headers.get("Idempotency-Key", "")))
            for i, (prefix, status) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[i]
                    kind = "rate_limit_error" if status == 429 else "api_error"
                    code, payload = _err(status, kind, f"injected {status}", "rate_limit")
                    return code, json.dumps(payload).encode(), {}
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer sk_") or auth.endswith("sk_expired"):
            status, payload = _err(401, "invalid_request_error", "Expired API Key provided")
            return status, json.dumps(payload).encode(), {}
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if method == "POST" and "multipart/form-data" in ctype:
            params, body = _parse_multipart(body, ctype)
        else:
            params = parse_form(body if method == "POST" else split.query)
        key = headers.get("Idempotency-Key", "")
        if method == "POST" and key:
            with self._lock:
                seen = self._idempotent.get(key)
            if seen is not None:
                if seen[0] != f"{path}?{body}":
                    status, payload = _err(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be "
                        "used with the same parameters they were first used with.",
                    )
                    return status, json.dumps(payload).encode(), {}
                return seen[1], seen[2], {"Idempotent-Replayed": "true"}
        routed = self.route(method, path, params)
        if routed is None:
            if self.upstream is None:
                status, payload = _err(404, "invalid_request_error", f"Unrecognized URL {path}")
                return status, json.dumps(payload).encode(), {}
            if path == "/v1/payment_methods" and "type=" not in split.query:
                # Stripe lists every type when none is given; localstripe insists on one.
                raw_path += ("&" if split.query else "?") + "type=card"
            return self._forward(method, raw_path, body, headers)
        status, obj = routed
        encoded = json.dumps(obj).encode()
        if method == "POST" and key and status < 500:
            with self._lock:
                self._idempotent[key] = (f"{path}?{body}", status, encoded)
        return status, encoded, {"Request-Id": "req_" + secrets.token_hex(6)}

    def _forward(
        self, method: str, raw_path: str, body: str, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        assert self.upstream is not None
        request = urllib.request.Request(
            self.upstream + raw_path,
            data=body.encode() if method == "POST" else None,
            method=method,
            headers={
                k: v
                for k, v in headers.items()
                if k.lower() in {"authorization", "content-type", "stripe-version"}
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, resp.read(), {}
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), {}

    def route(self, method: str, path: str, p: dict[str, Any]) -> tuple[int, Any] | None:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if not parts:
            return None
        head = parts[0]
        if head == "account" and method == "GET":
            # localstripe has no /v1/account; dj-stripe (benchmarked) needs one.
            return 200, {
                "id": "acct_fake",
                "object": "account",
                "type": "standard",
                "country": "FR",
                "default_currency": "eur",
                "email": None,
                "settings": {"dashboard": {"display_name": "Fake"}},
                "business_profile": {"name": "Fake"},
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "metadata": {},
                "livemode": False,
                "created": 1700000000,
            }
        if head == "accounts" and method == "GET":  # Connect: no connected accounts
            return 200, {"object": "list", "data": [], "has_more": False, "url": "/v1/accounts"}
        if head == "balance" and method == "GET":
            return 200, {"object": "balance", "available": [], "pending": []}
        if head == "disputes" and method == "POST" and len(parts) == 2:
            return self._dispute_update(parts[1], p)
        if head == "disputes" and method == "POST" and len(parts) == 3 and parts[2] == "close":
            return self._dispute_close(parts[1])
        if head == "files" and method == "POST" and len(parts) == 1:
            return self._file_create(p)
        if head == "disputes":
            return self._list_or_get("dispute", parts)
        if head == "charges" and method == "GET" and len(parts) == 2 and parts[1] in self.objects:
            # A charge the test placed here (e.g. Stripe's partial-capture shape, which
            # localstripe does not produce); any other charge is localstripe's.
            return 200, self.objects[parts[1]]
        if head == "prices" and method == "POST":
            return 200, self.add(
                {
                    "id": p.get("id") or "price_" + secrets.token_hex(7),
                    "object": "price",
                    "currency": p["currency"],
                    "unit_amount": int(p["unit_amount"]),
                    "recurring": {
                        "interval": p.get("recurring", {}).get("interval", "month"),
                        "interval_count": 1,
                    },
                    "product": p.get("product_data", {}).get("name", "Plan"),
                }
            )
        if head == "coupons" and method == "POST":
            return 200, self.add(
                {
                    "id": p.get("id") or secrets.token_hex(4).upper(),
                    "object": "coupon",
                    "percent_off": float(p["percent_off"]) if "percent_off" in p else None,
                    "amount_off": int(p["amount_off"]) if "amount_off" in p else None,
                    "currency": p.get("currency"),
                    "duration": p.get("duration", "once"),
                    "duration_in_months": None,
                    "name": p.get("name"),
                    "valid": True,
                }
            )
        if head == "subscriptions":
            return self._subscriptions(method, parts, p)
        if head == "invoices" and len(parts) >= 2 and parts[1] in self.objects:
            return self._invoice(method, parts)
        if head == "checkout" and parts[1:2] == ["sessions"] and method == "POST":
            sid = "cs_test_" + secrets.token_hex(12)
            if p.get("mode") == "setup" and not p.get("success_url"):
                return _err(400, "invalid_request_error", "Missing required param: success_url")
            return 200, self.add(
                {
                    "id": sid,
                    "object": "checkout.session",
                    "mode": p.get("mode"),
                    "customer": p.get("customer"),
                    "url": f"https://checkout.stripe.com/c/pay/{sid}",
                    "status": "open",
                    "success_url": p.get("success_url"),
                    "amount_total": sum(
                        int(li["price_data"]["unit_amount"]) * int(li.get("quantity", 1))
                        for li in p.get("line_items", [])
                        if "price_data" in li
                    )
                    or None,
                }
            )
        return None

    def _dispute_update(self, dispute_id: str, p: dict[str, Any]) -> tuple[int, Any]:
        """POST /v1/disputes/{id}: merge ``evidence``; ``submit`` (default true) sends it,
        moving the dispute under review; a closed or reviewed dispute refuses."""
        obj = self.objects.get(dispute_id)
        if obj is None:
            return _err(404, "invalid_request_error", "No such dispute", "resource_missing")
        if obj.get("status") not in ("needs_response", "warning_needs_response"):
            return _err(
                400,
                "invalid_request_error",
                "This dispute is already closed or under review.",
                "dispute_already_closed" if obj.get("status") in ("won", "lost") else "",
            )
        obj.setdefault("evidence", {}).update(p.get("evidence", {}))
        details = obj.setdefault("evidence_details", {})
        details["has_evidence"] = True
        if p.get("submit", "true") == "true":
            details["submission_count"] = int(details.get("submission_count") or 0) + 1
            obj["status"] = (
                "warning_under_review"
                if obj["status"] == "warning_needs_response"
                else "under_review"
            )
        return 200, obj

    def _dispute_close(self, dispute_id: str) -> tuple[int, Any]:
        """POST /v1/disputes/{id}/close: conceded, the dispute is lost (irreversible)."""
        obj = self.objects.get(dispute_id)
        if obj is None:
            return _err(404, "invalid_request_error", "No such dispute", "resource_missing")
        if obj.get("status") not in ("needs_response", "warning_needs_response"):
            return _err(400, "invalid_request_error", "This dispute is already closed.")
        obj["status"] = "lost" if obj["status"] == "needs_response" else "warning_closed"
        return 200, obj

    def _file_create(self, p: dict[str, Any]) -> tuple[int, Any]:
        """POST files.stripe.com/v1/files: ``purpose`` and one ``file`` part; dispute
        evidence is PDF/JPEG/PNG of at most 5 MB (https://stripe.com/docs/guides/file-upload)."""
        data = p.get("file")
        if p.get("purpose") != "dispute_evidence" or not isinstance(data, bytes):
            return _err(400, "invalid_request_error", "Missing required param: file.")
        if len(data) > 5 * 1024 * 1024:
            return _err(400, "invalid_request_error", "File size exceeds the 5 MB limit.")
        if not data.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8")):
            return _err(400, "invalid_request_error", "Unsupported file type.")
        file_id = "file_" + secrets.token_hex(8)
        self.files[file_id] = data
        return 200, {
            "id": file_id,
            "object": "file",
            "purpose": "dispute_evidence",
            "size": len(data),
            "filename": p.get("filename", ""),
            "type": "pdf" if data.startswith(b"%PDF-") else "image",
            "created": int(time.time()),
        }

    def _list_or_get(self, kind: str, parts: list[str]) -> tuple[int, Any]:
        if len(parts) == 2:
            obj = self.objects.get(parts[1])
            if obj is None:
                return _err(404, "invalid_request_error", f"No such {kind}", "resource_missing")
            return 200, obj
        data = [o for o in self.objects.values() if o.get("object") == kind]
        return 200, {"object": "list", "data": data, "has_more": False, "url": f"/v1/{kind}s"}

    def _subscriptions(
        self, method: str, parts: list[str], p: dict[str, Any]
    ) -> tuple[int, Any] | None:
        if self.upstream and len(parts) == 1:
            owns = method == "POST" and any("price" in i for i in p.get("items", []))
            if not owns:
                return None  # plan-based subscriptions and listings are localstripe's
        if len(parts) == 1 and method == "POST":
            items = []
            for item in p.get("items", []):
                price = self.objects.get(item.get("price", ""))
                if price is None:
                    return _err(400, "invalid_request_error", "No such price", "resource_missing")
                items.append(
                    {
                        "id": "si_" + secrets.token_hex(7),
                        "price": price,
                        "quantity": int(item.get("quantity", 1)),
                        "current_period_start": int(time.time()),
                        "current_period_end": int(time.time()) + 30 * 86400,
                    }
                )
            sub = self.add(
                {
                    "id": "sub_" + secrets.token_hex(7),
                    "object": "subscription",
                    "customer": p["customer"],
                    "status": "trialing" if p.get("trial_period_days") else "active",
                    "items": {"object": "list", "data": items},
                    "cancel_at_period_end": False,
                    "canceled_at": None,
                    "discounts": [],
                }
            )
            if p.get("discounts"):
                result = self._apply_discounts(sub, p["discounts"])
                if result is not None:
                    return result
            return 200, sub
        if len(parts) == 1 and method == "GET":
            data = [
                o
                for o in self.objects.values()
                if o.get("object") == "subscription"
                and (not p.get("customer") or o["customer"] == p["customer"])
                and (p.get("status") in (None, "all") or o["status"] == p["status"])
            ]
            return 200, {"object": "list", "data": data, "has_more": False}
        sub = self.objects.get(parts[1]) if len(parts) > 1 else None
        if sub is None:
            return None
        if method == "GET":
            return 200, sub
        if method == "DELETE":
            sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
            return 200, sub
        if sub["status"] in ("canceled", "incomplete_expired") and "cancel_at_period_end" in p:
            # A canceled subscription takes only cancellation_details and metadata updates.
            return _err(
                400,
                "invalid_request_error",
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        if "cancel_at_period_end" in p:
            sub["cancel_at_period_end"] = p["cancel_at_period_end"] == "true"
        if "pause_collection" in p:  # an empty value unsets it
            behavior = (
                (p["pause_collection"] or {}).get("behavior") if p["pause_collection"] else None
            )
            if p["pause_collection"] and behavior not in (
                "void",
                "keep_as_draft",
                "mark_uncollectible",
            ):
                return _err(400, "invalid_request_error", "Invalid pause_collection[behavior]")
            sub["pause_collection"] = (
                {"behavior": behavior, "resumes_at": None} if behavior else None
            )
        if "discounts" in p:
            result = self._apply_discounts(sub, p["discounts"])
            if result is not None:
                return result
        return 200, sub

    def _apply_discounts(
        self, sub: dict[str, Any], discounts: list[dict[str, str]]
    ) -> tuple[int, Any] | None:
        sub["discounts"] = []
        for d in discounts:
            coupon = self.objects.get(d.get("coupon", ""))
            if coupon is None:
                return _err(400, "invalid_request_error", "No such coupon", "resource_missing")
            sub["discounts"].append(
                {
                    "id": "di_" + secrets.token_hex(7),
                    "object": "discount",
                    "source": {"type": "coupon", "coupon": coupon},
                    "customer": sub["customer"],
                    "subscription": sub["id"],
                    "start": int(time.time()),
                    "end": None,
                }
            )
        return None

    def _invoice(self, method: str, parts: list[str]) -> tuple[int, Any]:
        inv = self.objects[parts[1]]
        action = parts[2] if len(parts) > 2 else ""
        if method == "GET" and not action:
            return 200, inv
        if action == "finalize":
            if inv["status"] != "draft":
                return _err(
                    400,
                    "invalid_request_error",
                    "This invoice is already finalized",
                    "invoice_not_editable",
                )
            inv.update(
                status="open",
                number=inv.get("number") or "INV-0001",
                hosted_invoice_url=f"https://invoice.stripe.com/i/{inv['id']}",
            )
            return 200, inv
        if action == "send":
            if inv["status"] == "draft":
                return _err(400, "invalid_request_error", "You can't send a draft invoice.")
            inv["sent_count"] = inv.get("sent_count", 0) + 1
            return 200, inv
        if action == "void":
            # Stripe voids an open or uncollectible invoice only (docs: "Void an invoice").
            if inv["status"] not in ("open", "uncollectible"):
                return _err(
                    400,
                    "invalid_request_error",
                    f"You can only void open or uncollectible invoices (status: {inv['status']}).",
                    "invoice_not_editable",
                )
            inv.update(status="void", amount_remaining=0)
            return 200, inv
        return _err(404, "invalid_request_error", f"Unrecognized URL {'/'.join(parts)}")


@contextmanager
def stripe_fake(*, upstream: str | None = None) -> Iterator[StripeFake]:
    with StripeFake(upstream=upstream) as fake:
        yield fake
