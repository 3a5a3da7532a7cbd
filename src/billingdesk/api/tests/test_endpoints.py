"""Read and action endpoints through Django's test client: shapes, filters, cursors, errors,
and actions through the same service as the panel (idempotent, audited as the key)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.api.models import ApiKey
from billingdesk.billing.models import Charge
from billingdesk.panel.tests.factories import Shop

pytestmark = pytest.mark.django_db
Api = Callable[..., Client]


def test_the_schema_is_openapi_3_1_and_the_reference_page_is_served_locally(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/charges" in schema["paths"]
    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page and "cdn" not in page.lower()


def test_every_operation_needs_a_key(client: Client, shop: Shop) -> None:
    for url in ("/api/v1/charges", f"/api/v1/persons/{shop.customer.person_id}"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_required"
        assert response["WWW-Authenticate"].startswith("Bearer")
    response = client.get("/api/v1/charges", HTTP_AUTHORIZATION="Bearer bdk_000000000000_x")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_key")


def test_a_read_key_cannot_act_or_push(api: Api, shop: Shop) -> None:
    reader = api("read")
    response = reader.post("/api/v1/actions", {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "scope_missing")


def test_charges_list_money_in_minor_units_filters_and_cursor(api: Api, shop: Shop) -> None:
    reader = api("read")
    page = reader.get("/api/v1/charges", {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    first = page["items"][0]
    assert isinstance(first["amount"], int) and first["currency"] == "EUR"
    rest = reader.get("/api/v1/charges", {"limit": 50, "cursor": page["next_cursor"]}).json()
    ids = [first["id"]] + [c["id"] for c in rest["items"]]
    assert (
        ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) == Charge.objects.count() > 2
    )
    assert rest["next_cursor"] is None
    captured = reader.get("/api/v1/charges", {"status": "authorized"}).json()["items"]
    assert [c["id"] for c in captured] == [shop.hold.pk]
    mine = reader.get("/api/v1/charges", {"person": shop.customer.person_id}).json()["items"]
    assert len(mine) == Charge.objects.filter(customer__person_id=shop.customer.person_id).count()
    nobody = reader.get("/api/v1/charges", {"person": 999999}).json()["items"]
    assert nobody == []


def test_person_search_and_detail(api: Api, shop: Shop) -> None:
    reader = api("read")
    found = reader.get("/api/v1/persons", {"q": "ana@example.com"}).json()
    assert [p["id"] for p in found["items"]] == [shop.customer.person_id]
    detail = reader.get(f"/api/v1/persons/{shop.customer.person_id}").json()
    assert {shop.charge.gateway_id, shop.hold.gateway_id} <= {
        c["gateway_id"] for c in detail["charges"]
    }
    assert detail["subscriptions"][0]["amount"] == 4500


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/charges?cursor=garbage", 400),
        ("/api/v1/charges?limit=0", 422),
        ("/api/v1/charges?limit=abc", 422),
        ("/api/v1/charges?person=-1", 422),
        (f"/api/v1/charges?person={2**70}", 422),
        ("/api/v1/charges?account=not-a-uuid", 422),
        ("/api/v1/charges/999999", 404),
        (f"/api/v1/charges/{2**70}", 422),
        ("/api/v1/persons?q=", 422),
        ("/api/v1/persons?q=%40", 400),
        ("/api/v1/persons/0", 422),
        ("/api/v1/persons/999999", 404),
        ("/api/v1/documents/999999/pdf", 404),
    ],
)
def test_bad_reads_answer_4xx_in_the_one_error_shape(
    api: Api, shop: Shop, url: str, status: int
) -> None:
    response = api("read").get(url)
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"} and body["message"]


def _refund(client: Client, shop: Shop, key: str, amount: int = 1000) -> Any:
    return client.post(
        "/api/v1/actions",
        {"kind": "refund", "target_type": "charge", "target_id": shop.charge.pk,
         "params": {"amount": amount}, "reason_code": "duplicate",
         "reason_text": "charged twice"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )  # fmt: skip


def test_a_refund_runs_once_per_idempotency_key_and_is_audited_as_the_key(
    api: Api, shop: Shop
) -> None:
    actor = api("actions")
    preview = actor.post(
        "/api/v1/actions/preview",
        {"kind": "refund", "target_type": "charge", "target_id": shop.charge.pk,
         "params": {"amount": 1000}},
        content_type="application/json",
    ).json()  # fmt: skip
    assert preview["allowed"] and preview["amount"] == 1000 and preview["currency"] == "EUR"
    first = _refund(actor, shop, "order-42-refund")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "succeeded"
    again = _refund(actor, shop, "order-42-refund")
    assert again.json()["id"] == first.json()["id"]
    assert ActionRequest.objects.count() == 1
    shop.charge.refresh_from_db()
    assert shop.charge.amount_refunded == 1000
    key = ApiKey.objects.get(scopes=["actions"])
    entry = AuditEntry.objects.filter(action="refund", result="succeeded").get()
    assert entry.actor_id == key.user_id and entry.actor_name.startswith("API key")
    other = _refund(actor, shop, "order-43-refund")
    assert other.json()["id"] != first.json()["id"]
    status = actor.get(f"/api/v1/actions/{first.json()['id']}").json()
    assert status["status"] == "succeeded"


def test_the_agent_limits_apply_to_a_key(api: Api, shop: Shop) -> None:
    from billingdesk.panel.tests.factories import limit_set

    limit_set("agent", 500)
    response = _refund(api("actions"), shop, "big-refund-1", amount=2000)
    assert response.status_code == 202
    assert response.json()["status"] == "pending_approval"
    assert Charge.objects.get(pk=shop.charge.pk).amount_refunded == 0


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"kind": "refund", "target_type": "charge", "target_id": 1}, {}, 422),  # no key header
        ({"kind": "explode", "target_type": "charge", "target_id": 1}, {"k": 1}, 422),
        ({"kind": "refund", "target_type": "person", "target_id": 1}, {"k": 1}, 422),
        ({"kind": "refund", "target_type": "customer", "target_id": 1}, {"k": 1}, 400),
        ({"kind": "refund", "target_type": "charge", "target_id": 999999}, {"k": 1}, 404),
        ({"kind": "refund", "target_type": "charge", "target_id": "x"}, {"k": 1}, 422),
        ("not json", {"k": 1}, 400),
    ],
)
def test_bad_actions_answer_4xx(
    api: Api, shop: Shop, body: Any, headers: dict[str, int], status: int
) -> None:
    extra = {"HTTP_IDEMPOTENCY_KEY": "retry-key-1"} if headers else {}
    response = api("actions").post(
        "/api/v1/actions", body, content_type="application/json", **extra
    )
    assert response.status_code == status, response.content
    assert response.json()["message"]


def test_an_over_refund_is_a_409_with_the_reason(api: Api, shop: Shop) -> None:
    response = _refund(api("actions"), shop, "too-much-1", amount=999_999)
    assert response.status_code in (400, 409), response.content
    assert "refund" in response.json()["message"].lower()
