"""The approval queue through the API (same service and rules as the console) and the
action.* / approval.* events it and the action service emit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.api.models import WebhookMessage
from billingdesk.api.tests.conftest import Receiver
from billingdesk.api.webhooks.services import endpoint_create
from billingdesk.billing.models import Charge
from billingdesk.core.errors import InvalidRequest
from billingdesk.panel.tests.factories import Shop, limit_set

pytestmark = pytest.mark.django_db
Api = Callable[..., Client]


def _refund(client: Client, shop: Shop, key: str, amount: int) -> Any:
    return client.post(
        "/api/v1/actions",
        {"kind": "refund", "target_type": "charge", "target_id": shop.charge.pk,
         "params": {"amount": amount}, "reason_code": "duplicate", "reason_text": "twice"},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY=key,
    )  # fmt: skip


def _pending(api: Api, shop: Shop) -> tuple[Client, int]:
    limit_set("agent", 500)
    agent = api("actions")
    asked = _refund(agent, shop, "big-refund-approve-me", 2000)
    assert asked.status_code == 202 and asked.json()["status"] == "pending_approval"
    return agent, asked.json()["id"]


def _decide(client: Client, request_id: int, verb: str, reason: str = "") -> Any:
    return client.post(
        f"/api/v1/approvals/{request_id}/{verb}", {"reason": reason},
        content_type="application/json",
    )  # fmt: skip


def test_an_agent_key_sees_only_its_own_requests_and_cannot_decide(api: Api, shop: Shop) -> None:
    agent, request_id = _pending(api, shop)
    other = api("actions")
    queue = agent.get("/api/v1/approvals").json()
    assert [r["id"] for r in queue["pending"]] == [request_id]
    assert queue["pending"][0]["amount"] == 2000 and queue["pending"][0]["reason_code"]
    assert other.get("/api/v1/approvals").json()["pending"] == []
    refused = _decide(other, request_id, "approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "role_insufficient")
    assert ActionRequest.objects.get(pk=request_id).status == "pending_approval"
    reader = api("read")
    assert reader.get("/api/v1/approvals").status_code == 403  # no actions scope


def test_a_finance_key_approves_and_the_refund_runs_audited_with_both_names(
    api: Api, shop: Shop
) -> None:
    _agent, request_id = _pending(api, shop)
    finance = api("actions", role="finance")
    queue = finance.get("/api/v1/approvals").json()
    assert request_id in [r["id"] for r in queue["pending"]]
    done = _decide(finance, request_id, "approve")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "succeeded"
    assert done.json()["decided_by"].startswith("API key")
    assert Charge.objects.get(pk=shop.charge.pk).amount_refunded == 2000
    entry = AuditEntry.objects.get(action="refund", result="succeeded")
    assert entry.approver_name.startswith("API key") and entry.actor_name.startswith("API key")
    again = _decide(finance, request_id, "approve")
    assert again.status_code == 400 and "already" in again.json()["message"]
    assert finance.get("/api/v1/approvals").json()["decided"][0]["id"] == request_id


def test_a_denial_needs_a_reason_and_changes_nothing(api: Api, shop: Shop) -> None:
    _agent, request_id = _pending(api, shop)
    finance = api("actions", role="finance")
    bare = _decide(finance, request_id, "deny")
    assert bare.status_code == 400 and "why" in bare.json()["message"].lower()
    denied = _decide(finance, request_id, "deny", "not a duplicate")
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    assert denied.json()["decision_reason"] == "not a duplicate"
    assert Charge.objects.get(pk=shop.charge.pk).amount_refunded == 0
    assert _decide(finance, 999_999, "deny", "x").status_code == 404


def test_a_finance_key_cannot_approve_its_own_request(api: Api, shop: Shop) -> None:
    limit_set("agent", 500)
    limit_set("finance", 1000)
    finance = api("actions", role="finance")
    asked = _refund(finance, shop, "finance-own-refund", 2000)
    assert asked.json()["status"] == "pending_approval", asked.content
    own = _decide(finance, asked.json()["id"], "approve")
    assert own.status_code == 409 and "someone else" in own.json()["message"].lower()


def test_only_action_keys_may_have_a_role(make_key: Callable[..., str]) -> None:
    with pytest.raises(InvalidRequest):
        make_key("read", role="finance")
    with pytest.raises(InvalidRequest):
        make_key("actions", role="admin")


def test_actions_and_approvals_are_sent_as_signed_events(
    api: Api, shop: Shop, receiver: Receiver, drain_tasks: Callable[[], None]
) -> None:
    endpoint = endpoint_create(url=receiver.url, event_types=["action.*", "approval.*"])
    agent = api("actions")
    assert _refund(agent, shop, "small-refund-event", 300).json()["status"] == "succeeded"
    _agent, request_id = _pending(api, shop)
    finance = api("actions", role="finance")
    assert _decide(finance, request_id, "approve").json()["status"] == "succeeded"
    types = list(WebhookMessage.objects.order_by("id").values_list("event_type", flat=True))
    assert types == [
        "action.succeeded", "approval.requested", "approval.approved", "action.succeeded"
    ]  # fmt: skip
    drain_tasks()
    seen = [Webhook(endpoint.secret).verify(r["body"], r["headers"]) for r in receiver.requests]
    assert sorted(p["type"] for p in seen) == sorted(types)
    approved = next(p for p in seen if p["type"] == "approval.approved")["data"]
    assert approved["id"] == request_id and approved["kind"] == "refund"
    assert approved["amount"] == 2000 and approved["currency"] == "EUR"


def test_a_denial_and_a_refusal_are_events_too(api: Api, shop: Shop, receiver: Receiver) -> None:
    endpoint_create(url=receiver.url, event_types=["approval.denied", "action.refused"])
    _agent, request_id = _pending(api, shop)
    _decide(api("actions", role="finance"), request_id, "deny", "no")
    bodies = [json.loads(m.body) for m in WebhookMessage.objects.order_by("id")]
    assert [b["type"] for b in bodies] == ["approval.denied"]
    assert bodies[0]["data"]["status"] == "denied"
