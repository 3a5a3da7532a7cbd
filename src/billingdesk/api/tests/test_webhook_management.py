"""Webhook endpoints managed through the API (scope ``admin``), the delivery log, replay, and
an endpoint turned off by 410 or by a week of failures (the admins told)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from billingdesk.api.models import WebhookDelivery, WebhookEndpoint
from billingdesk.api.tests.conftest import Receiver
from billingdesk.api.webhooks.services import event_emit

pytestmark = pytest.mark.django_db
Api = Callable[..., Client]
JSON = "application/json"


def _create(client: Client, url: str, **extra: Any) -> Any:
    return client.post(
        "/api/v1/webhooks/endpoints", {"url": url, "event_types": ["charge.*"], **extra},
        content_type=JSON,
    )  # fmt: skip


def test_management_needs_the_admin_scope(api: Api, receiver: Receiver) -> None:
    for scope in ("read", "actions", "push", "reports"):
        response = api(scope).get("/api/v1/webhooks/endpoints")
        assert (response.status_code, response.json()["code"]) == (403, "scope_missing")
    assert _create(api("read"), receiver.url).status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_create_shows_the_secret_once_then_list_change_rotate_delete(
    api: Api, receiver: Receiver
) -> None:
    admin = api("admin")
    made = _create(admin, receiver.url, description="back office")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["event_types"] == ["charge.*"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == body["secret"]
    url = f"/api/v1/webhooks/endpoints/{body['id']}"
    assert "secret" not in admin.get(url).json()
    assert [e["id"] for e in admin.get("/api/v1/webhooks/endpoints").json()["items"]] == [
        body["id"]
    ]
    changed = admin.patch(url, {"event_types": ["refund.*", "action.*"]}, content_type=JSON)
    assert changed.status_code == 200 and changed.json()["event_types"] == ["refund.*", "action.*"]
    assert changed.json()["description"] == "back office"  # what is not sent stays
    rotated = admin.post(f"{url}/rotate").json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_until"]
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == body["secret"] and endpoint.secret == rotated["secret"]
    assert admin.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert admin.get(url).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": "ftp://example.com/x"}, 400),
        ({"url": "http://10.0.0.1/x", "private": True}, 400),
        ({"url": "https://example.com/x", "event_types": ["charge updated"]}, 422),
        ({"url": "https://example.com/x", "event_types": [""]}, 422),
        ({"url": "https://example.com/x", "event_types": "charge.*"}, 422),
        ({"url": ""}, 422),
        ({}, 422),
    ],
)
def test_bad_endpoints_are_refused_and_nothing_is_made(
    api: Api, settings: Any, body: dict[str, Any], status: int
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    body.pop("private", None)
    response = api("admin").post("/api/v1/webhooks/endpoints", body, content_type=JSON)
    assert response.status_code == status, response.content
    assert response.json()["message"] and not WebhookEndpoint.objects.exists()


def test_a_bad_change_changes_nothing(api: Api, receiver: Receiver, settings: Any) -> None:
    admin = api("admin")
    made = _create(admin, receiver.url).json()
    settings.OUTBOUND_ALLOW_PRIVATE = False
    url = f"/api/v1/webhooks/endpoints/{made['id']}"
    assert admin.patch(url, {"url": "http://127.0.0.1/x"}, content_type=JSON).status_code == 400
    assert admin.patch(url, {"event_types": ["a b"]}, content_type=JSON).status_code == 422
    assert WebhookEndpoint.objects.get().url == receiver.url


def test_a_delivery_is_logged_and_replayed_with_the_same_id(
    api: Api, receiver: Receiver, drain_tasks: Callable[[], None]
) -> None:
    admin = api("admin")
    made = _create(admin, receiver.url).json()
    event_emit(event_type="charge.updated", data={"id": 1}, object_key="charge:1")
    drain_tasks()
    log = admin.get(f"/api/v1/webhooks/endpoints/{made['id']}/deliveries").json()["items"]
    assert len(log) == 1 and log[0]["status"] == "succeeded"
    assert log[0]["log"][0]["status_code"] == 200
    assert "webhook-signature" not in log[0]["log"][0]["request_headers"]
    replayed = admin.post(f"/api/v1/webhooks/deliveries/{log[0]['id']}/replay")
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    drain_tasks()
    assert len(receiver.requests) == 2
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {log[0]["msg_id"]}
    for seen in receiver.requests:
        Webhook(made["secret"]).verify(seen["body"], seen["headers"])
    after = admin.get(f"/api/v1/webhooks/endpoints/{made['id']}/deliveries").json()["items"][0]
    assert after["status"] == "succeeded" and len(after["log"]) == 2
    assert admin.post("/api/v1/webhooks/deliveries/999999/replay").status_code == 404


def test_410_turns_the_endpoint_off_replay_is_refused_until_it_is_turned_back_on(
    api: Api, receiver: Receiver, drain_tasks: Callable[[], None]
) -> None:
    admin = api("admin")
    made = _create(admin, receiver.url).json()
    receiver.replies = [(410, {})]
    event_emit(event_type="charge.updated", data={"id": 1}, object_key="charge:1")
    drain_tasks()
    url = f"/api/v1/webhooks/endpoints/{made['id']}"
    seen = admin.get(url).json()
    assert not seen["is_active"] and "410" in seen["disabled_reason"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    refused = admin.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay")
    assert refused.status_code == 409 and "turned off" in refused.json()["message"]
    assert len(receiver.requests) == 1
    back = admin.patch(url, {"is_active": True}, content_type=JSON).json()
    assert back["is_active"] and back["disabled_reason"] == ""
    assert admin.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/replay").status_code == 202
    drain_tasks()
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_an_endpoint_failing_for_a_week_is_turned_off_and_the_admins_are_told(
    receiver: Receiver, settings: Any, drain_tasks: Callable[[], None], api: Api
) -> None:
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.API_WEBHOOK_RETRY_DELAYS = [0, 0, 0]
    made = _create(api("admin"), receiver.url).json()
    receiver.replies = [(500, {}), (503, {})]
    event_emit(event_type="charge.updated", data={"id": 1}, object_key="charge:1")
    drain_tasks()  # 500, 503, then 200: a run of failures ends with a success
    endpoint = WebhookEndpoint.objects.get(pk=made["id"])
    assert endpoint.is_active and endpoint.failing_since is None
    # Failing since eight days: the next failure turns it off.
    receiver.replies = [(500, {})] * 5
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=8)
    )
    event_emit(event_type="charge.updated", data={"id": 2}, object_key="charge:2")
    drain_tasks()
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "week" in endpoint.disabled_reason
    assert WebhookDelivery.objects.filter(status="failed").count() == 1
    assert len(receiver.requests) == 4  # no retry after it was turned off
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert receiver.url in mail.outbox[0].body
    event_emit(event_type="charge.updated", data={"id": 3}, object_key="charge:3")
    assert WebhookDelivery.objects.count() == 2  # nothing new for a disabled endpoint


def test_a_run_of_failures_gives_up_after_the_last_retry_without_turning_off(
    receiver: Receiver, settings: Any, drain_tasks: Callable[[], None], api: Api
) -> None:
    settings.API_WEBHOOK_RETRY_DELAYS = [0, 0]
    _create(api("admin"), receiver.url)
    receiver.replies = [(500, {})] * 3
    event_emit(event_type="charge.updated", data={"id": 1}, object_key="charge:1")
    drain_tasks()
    assert len(receiver.requests) == 3  # first try + two retries
    assert WebhookDelivery.objects.get().status == "failed"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_active and endpoint.failing_since is not None
