"""API fixtures: keys of each scope, a sandbox shop, a local HTTP receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from billingdesk.api.keys import apikey_create
from billingdesk.panel.tests.factories import Shop, build_shop


@pytest.fixture
def shop(db: None) -> Shop:
    return build_shop()


@pytest.fixture
def make_key(db: None) -> Callable[..., str]:
    made = iter(range(1000))

    def make(*scopes: str, **options: Any) -> str:
        _, text = apikey_create(name=f"key {next(made)}", scopes=scopes or ("read",), **options)
        return text

    return make


@pytest.fixture
def api(make_key: Callable[..., str]) -> Callable[..., Client]:
    """A test client sending a fresh key of these scopes."""

    def client(*scopes: str, **options: Any) -> Client:
        key = make_key(*scopes, **options)
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)

    return client


class Receiver:
    """A real HTTP server on a free port: records each request, answers from ``replies``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []
        self.handle: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                receiver.requests.append(seen)
                if receiver.handle is not None:
                    status, data = receiver.handle(seen)
                else:
                    status, data = receiver.replies.pop(0) if receiver.replies else (200, {})
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    found = Receiver()
    yield found
    found.close()
