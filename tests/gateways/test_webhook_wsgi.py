"""The lean WSGI path for POST /webhooks/<uuid>/ answers exactly as the Django view does."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test.utils import override_settings

from billingdesk.billing import models as m
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.views import WebhookIntakeApp
from tests.fakes.memory_gateway import event_body, signed_headers
from tests.gateways.conftest import T0

Answer = tuple[int, dict[str, Any], dict[str, str]]


def fallback(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
    return [b"django"]


@pytest.fixture
def app() -> Iterator[WebhookIntakeApp]:
    # As Django's test client does: the test's transaction must outlive each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WebhookIntakeApp(fallback)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(
    app: WebhookIntakeApp, path: str, body: bytes = b"", method: str = "POST", **extra: str
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        **extra,
    }
    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answered.update(status=status, headers=dict(headers))

    content = b"".join(app(environ, start_response))
    if answered["status"].startswith("418"):
        return 418, {}, answered["headers"]
    return int(answered["status"].split()[0]), json.loads(content), answered["headers"]


def charge_event(event_id: str = "evt_1") -> bytes:
    charge = gw.GwCharge(
        id="ch_1",
        updated=T0 + timedelta(minutes=1),
        created=T0,
        customer_id="cus_1",
        amount=5000,
        currency="EUR",
        amount_captured=5000,
        amount_refunded=0,
        status=gw.ChargeStatus.CAPTURED,
    )
    return event_body(event_id, charge)


@pytest.mark.django_db
def test_a_valid_event_is_stored_and_drained(
    app: WebhookIntakeApp, memory_account: GatewayAccount, drain_tasks: Callable[[], None]
) -> None:
    body = charge_event()

    status, payload, headers = call(
        app, memory_account.webhook_path, body, **signed_headers(memory_account, body)
    )

    assert (status, payload) == (200, {"received": True, "detail": "received"})
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    event = WebhookEvent.objects.get()
    assert (event.status, event.event_id, bytes(event.body)) == ("pending", "evt_1", body)
    assert event.headers["x-memory-signature"] and event.headers["content-type"]
    drain_tasks()
    assert m.Charge.objects.get(gateway_id="ch_1").amount == 5000


@pytest.mark.django_db
def test_a_repeated_delivery_is_200_and_kept_as_duplicate(
    app: WebhookIntakeApp, memory_account: GatewayAccount
) -> None:
    body = charge_event()
    for _ in range(2):
        status, payload, _ = call(
            app, memory_account.webhook_path, body, **signed_headers(memory_account, body)
        )

    assert (status, payload["detail"]) == (200, "duplicate delivery, already received")
    assert sorted(WebhookEvent.objects.values_list("status", flat=True)) == [
        "duplicate",
        "pending",
    ]


@pytest.mark.django_db
def test_a_bad_signature_is_400_and_stored_as_rejected(
    app: WebhookIntakeApp, memory_account: GatewayAccount
) -> None:
    body = charge_event()

    status, payload, _ = call(
        app, memory_account.webhook_path, body, HTTP_X_MEMORY_SIGNATURE="t=1,v1=00"
    )

    assert status == 400 and payload["error"]
    event = WebhookEvent.objects.get()
    assert (event.status, bytes(event.body)) == ("rejected", body)
    memory_account.refresh_from_db()
    assert not memory_account.drain_requested


@pytest.mark.django_db
def test_unknown_and_inactive_accounts_are_404_and_nothing_is_stored(
    app: WebhookIntakeApp, memory_account: GatewayAccount
) -> None:
    body = charge_event()
    unknown = "/webhooks/00000000-0000-4000-8000-000000000000/"
    assert call(app, unknown, body)[:2] == (404, {"error": "unknown webhook endpoint"})

    # Known (and cached) first, then deactivated: the next delivery is refused at once.
    call(app, memory_account.webhook_path, body, **signed_headers(memory_account, body))
    WebhookEvent.objects.all().delete()
    GatewayAccount.objects.filter(pk=memory_account.pk).update(is_active=False)

    status, payload, _ = call(
        app, memory_account.webhook_path, body, **signed_headers(memory_account, body)
    )
    assert (status, payload) == (404, {"error": "unknown webhook endpoint"})
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@override_settings(WEBHOOK_MAX_BODY_BYTES=100)
def test_an_oversized_body_is_413_and_nothing_is_stored(
    app: WebhookIntakeApp, memory_account: GatewayAccount
) -> None:
    body = json.dumps({"id": "evt", "pad": "x" * 200}).encode()

    assert call(app, memory_account.webhook_path, body)[:2] == (413, {"error": "body too large"})
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_host_not_allowed_is_400(app: WebhookIntakeApp, memory_account: GatewayAccount) -> None:
    body = charge_event()
    status, payload, _ = call(
        app,
        memory_account.webhook_path,
        body,
        HTTP_HOST="evil.example",
        **signed_headers(memory_account, body),
    )

    assert (status, payload) == (400, {"error": "host not allowed"})
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/00000000-0000-4000-8000-000000000000/"),
        ("POST", "/webhooks/not-a-uuid/"),
        ("POST", "/webhooks/00000000-0000-4000-8000-000000000000"),
        ("POST", "/login/"),
    ],
)
def test_everything_else_goes_to_django(app: WebhookIntakeApp, method: str, path: str) -> None:
    assert call(app, path, method=method)[0] == 418


@pytest.mark.django_db
def test_the_answer_carries_the_configured_security_headers(
    app: WebhookIntakeApp, memory_account: GatewayAccount, settings: Any
) -> None:
    # The same response-header middleware as every other page, so a setting such as HSTS
    # applies to webhook answers too.
    settings.SECURE_HSTS_SECONDS = 3600
    app = WebhookIntakeApp(fallback)  # middleware reads its settings when built, at start-up
    body = charge_event()

    status, _, headers = call(
        app,
        memory_account.webhook_path,
        body,
        **{"wsgi.url_scheme": "https", "SERVER_PORT": "443"},
        **signed_headers(memory_account, body),
    )

    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=3600"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_process_environment_never_reaches_the_request(
    app: WebhookIntakeApp, memory_account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Granian (like wsgiref) starts each environ from os.environ; the entry point drops it."""
    from billingdesk.config import wsgi

    process_env = {"HTTP_PROXY": "http://proxy.internal:3128", "DATABASE_URL": "postgres://u:pw@db"}
    monkeypatch.setattr(wsgi, "_PROCESS_ENV", process_env)
    monkeypatch.setattr(wsgi, "_app", app)
    body = charge_event("evt_env")
    status, _, _ = call(
        wsgi.application,  # type: ignore[arg-type]
        memory_account.webhook_path,
        body,
        **process_env,
        HTTP_X_TRACE="kept",  # a real request header
        **signed_headers(memory_account, body),
    )
    assert status == 200
    stored = WebhookEvent.objects.get(event_id="evt_env").headers
    assert stored["x-trace"] == "kept"
    assert "proxy" not in stored
    assert not any("pw@db" in str(v) for v in stored.values())
