"""`billingdesk serve` keeps answering while many idle keep-alive connections are open.

A real server (Granian, the default 2 workers x 2 threads) in a subprocess, real sockets: 50
clients each send one request and keep their connection open without sending another, as
browsers, load balancers and gateways do. New connections must still be answered — the
health check and a signed webhook delivery. With Granian's connection budget equal to the
threads (the old default) the first four idle connections held every permit and anything new
waited ~30 s, until the keep-alive timeout closed one; the socket timeout here is 10 s, so that
fails, while a working server answers in milliseconds (no wall-clock limit is asserted).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from billingdesk.core.signing import sign_header
from tests.migrated import sqlite_migrated

BILLINGDESK = Path(sys.executable).parent / "billingdesk"
IDLE_CONNECTIONS = 50
ANSWER_TIMEOUT = 10.0  # generous; the stalled server needed ~30 s
READY_TIMEOUT = 120.0
WEBHOOK_SECRET = "whsec_keepalive_test"


def _env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)  # its own SQLite database in data_dir
    env["BILLINGDESK_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(port: int, raw: bytes, *, timeout: float = ANSWER_TIMEOUT) -> bytes:
    """One request on a new connection (closed after the answer); the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


@pytest.fixture
def server(tmp_path: Path, migrated_cache: Path) -> Iterator[tuple[int, str]]:
    """A migrated SQLite installation with a sandbox account, served by the default
    `billingdesk serve`; yields (port, webhook path)."""
    env = _env(tmp_path / "data")
    sqlite_migrated(tmp_path / "data", migrated_cache)
    for args in (
        ["gateway", "add", "sandbox", "--name", "Keep-alive", "--webhook-secret", WEBHOOK_SECRET],
        ["gateway", "list"],
    ):
        done = subprocess.run(
            [str(BILLINGDESK), *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
    webhook_path = next(
        word[word.index("/webhooks/") :] for word in done.stdout.split() if "/webhooks/" in word
    )
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [str(BILLINGDESK), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if _request(port, _get("/healthz"), timeout=2).startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                pass
            if serve.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield port, webhook_path
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, 9)
            serve.wait()


def test_idle_keep_alive_connections_do_not_stall_new_requests(
    server: tuple[int, str],
) -> None:
    port, webhook_path = server
    idle: list[socket.socket] = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT)
            idle.append(sock)
            # HTTP/1.1 keeps the connection alive by default; no second request follows.
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        # Normal traffic, on new connections, while the 50 stay open and idle.
        for _ in range(3):
            assert _request(port, _get("/healthz")) == b"HTTP/1.1 200 OK"
            assert _request(port, _get("/login/")) == b"HTTP/1.1 200 OK"
        body = json.dumps(
            {
                "object": "event",
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "customer.updated",
                "data": {"object": "customer", "id": "cus_keepalive"},
            }
        ).encode()
        webhook = (
            f"POST {webhook_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Billingdesk-Signature: {sign_header(body, WEBHOOK_SECRET)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        assert _request(port, webhook) == b"HTTP/1.1 200 OK"
        # The idle connections were served too, and are still usable.
        for sock in idle[:5]:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert b"HTTP/1.1 200" in sock.recv(65536)
    finally:
        for sock in idle:
            sock.close()
