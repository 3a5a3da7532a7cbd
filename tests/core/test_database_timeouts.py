"""A database that stops answering fails requests quickly instead of hanging them.

The "hung PostgreSQL" is a real TCP listener on 127.0.0.1 that accepts connections and never
sends a byte, as a frozen or overloaded server does. billingdesk's WSGI application runs in
a fresh interpreter with DATABASE_URL pointed at it (settings are read once per process) and
is called for /healthz, for a page that needs the database (a session cookie makes the
console read the session table) and for a webhook delivery. Without a connect timeout the
child waits on the socket forever and the subprocess timeout fails the test; no wall-clock
limit is asserted otherwise.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PROBE = """
import io, json, sys
from billingdesk.config.wsgi import application

def call(path, cookie="", method="GET", body=b""):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answered = {}
    def start_response(status, headers, exc_info=None):
        answered.update(status=int(status.split()[0]), headers=dict(headers))
    body = b"".join(application(environ, start_response)).decode()
    return {**answered, "body": body}

print(json.dumps({
    "healthz": call("/healthz"),
    "page": call("/console/", cookie="sessionid=" + "a" * 32),
    "webhook": call(
        "/webhooks/00000000-0000-4000-8000-000000000001/", method="POST", body=b"{}"
    ),
}))
"""


@pytest.fixture
def hung_database() -> Iterator[int]:
    """A port where connections are accepted and then left without an answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()
        for sock in accepted:
            sock.close()
        assert accepted, "the application never tried the database"


def test_a_hung_postgresql_gives_503s_not_a_hang(tmp_path: Path, hung_database: int) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{hung_database}/billingdesk"
    env["BILLINGDESK_DATA_DIR"] = str(tmp_path)
    # Generous: the default connect timeout is 5 s and each of the requests waits once.
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)

    healthz = answers["healthz"]
    assert healthz["status"] == 503
    assert json.loads(healthz["body"]) == {"status": "error", "database": "unreachable"}

    page = answers["page"]
    assert page["status"] == 503
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert page["headers"]["Retry-After"] == "30"
    assert "Temporarily unavailable" in page["body"]
    assert "billingdesk.css" in page["body"]  # the styled page, not Django's bare one
    assert "Traceback" not in page["body"] and "OperationalError" not in page["body"]

    # Webhook intake (answered in front of Django) gives a server error the gateway retries.
    webhook = answers["webhook"]
    assert webhook["status"] >= 500
    assert "error" in json.loads(webhook["body"])


STATEMENT_TIMEOUT_PROBE = """
import sys
from django.db import connection
if sys.argv[1] == "web":
    import billingdesk.config.wsgi  # noqa: F401  (what Granian imports in a web worker)
else:
    import django
    django.setup()
with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    print(cursor.fetchone()[0])
"""


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="statement_timeout is PostgreSQL's; run with DATABASE_URL=postgres://…",
)
@pytest.mark.parametrize(
    ("process", "configured", "expected"),
    [("web", None, "30s"), ("web", "2.5", "2500ms"), ("command", None, "0")],
)
def test_web_processes_bound_statements_and_commands_do_not(
    tmp_path: Path, process: str, configured: str | None, expected: str
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env["DJANGO_SETTINGS_MODULE"] = "billingdesk.config.settings"
    # The server's maintenance database: the one named in DATABASE_URL may exist only as
    # pytest-django's test_… copy.
    env["DATABASE_URL"] = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    env["BILLINGDESK_DATA_DIR"] = str(tmp_path)
    if configured is not None:
        env["BILLINGDESK_DB_STATEMENT_TIMEOUT"] = configured
    done = subprocess.run(
        [sys.executable, "-c", STATEMENT_TIMEOUT_PROBE, process],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
