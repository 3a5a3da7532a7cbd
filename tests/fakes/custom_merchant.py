"""A merchant's action endpoint for the custom gateway, over real HTTP (docs/gateways/custom.md).

It verifies each request with the ``standardwebhooks`` reference verifier, keeps its own
books (charges by id, refunds), answers each idempotency key once (a retry gets the first
answer), refuses an over-refund with ``code: amount_too_large``, and can be told to fail:
``timeout`` (answers after the client gave up) or ``rate_limit`` (429).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook


class Merchant:
    def __init__(self, secret: str, *, slow_seconds: float = 2.0) -> None:
        self.secret = secret
        self.books: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.failure = ""
        self.slow_seconds = slow_seconds
        self.calls: list[dict[str, Any]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, data = merchant.answer(body, dict(self.headers.items()))
                payload = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout case)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/billingdesk/actions"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.failure == "timeout":
            time.sleep(self.slow_seconds)
            return 200, {}
        if self.failure == "rate_limit":
            return 429, {"message": "slow down"}
        try:
            call = Webhook(self.secret).verify(body, headers)
        except Exception:
            return 401, {"message": "bad signature"}
        self.calls.append(call)
        key = call["idempotency_key"]
        if key not in self.answers:
            self.answers[key] = self._act(call)
        return self.answers[key]

    def _act(self, call: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if call["action"] != "refund":
            return 422, {"message": f"{call['action']} is not done here"}
        charge = self.books.setdefault(call["object"]["id"], dict(call["object"]))
        charge.setdefault("amount_refunded", 0)
        amount = call["params"]["amount"] or charge["amount"] - charge["amount_refunded"]
        if charge["amount_refunded"] + amount > charge["amount"]:
            left = charge["amount"] - charge["amount_refunded"]
            return 409, {"code": "amount_too_large", "message": f"Only {left} can be refunded."}
        charge["amount_refunded"] += amount
        whole = charge["amount_refunded"] == charge["amount"]
        now = datetime.now(UTC).isoformat()
        charge.update(status="refunded" if whole else "partially_refunded", updated=now)
        refund = {
            "object": "refund", "id": f"re_{len(self.answers) + 1}", "updated": now,
            "charge_id": charge["id"], "amount": amount, "currency": charge["currency"],
            "status": "succeeded", "reason": call["params"].get("reason") or "",
        }  # fmt: skip
        return 200, {"objects": [charge, refund], "request_id": f"mr_{len(self.answers) + 1}"}
