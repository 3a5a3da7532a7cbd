"""The sandbox's admin pages: read-only object and event lists, redelivery of webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.task_engines import jobs_of

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.delivery import event_deliver
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxEvent

pytestmark = pytest.mark.django_db


def test_lists_show_objects_and_events(admin_client: Any, account: GatewayAccount) -> None:
    customer = SandboxEngine(account, webhooks=False).customer_create(email="ana@example.com")

    objects = admin_client.get("/admin/sandbox/sandboxobject/")
    events = admin_client.get("/admin/sandbox/sandboxevent/")

    assert objects.status_code == 200 and customer.object_id in objects.content.decode()
    assert events.status_code == 200 and "customer.created" in events.content.decode()
    assert admin_client.get("/admin/sandbox/sandboxobject/add/").status_code == 403


def test_redeliver_queues_the_selected_events(
    admin_client: Any,
    account: GatewayAccount,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    SandboxEngine(account, webhooks=False).customer_create(email="ana@example.com")
    event = SandboxEvent.objects.get()
    assert event.delivery == SandboxEvent.Delivery.OFF

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/sandbox/sandboxevent/",
            {"action": "redeliver", "_selected_action": [event.pk]},
        )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.delivery == SandboxEvent.Delivery.PENDING
    [queued] = jobs_of(event_deliver, commit_pending=False)
    assert queued.args == [event.pk]
