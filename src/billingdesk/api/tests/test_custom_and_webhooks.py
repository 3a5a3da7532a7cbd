"""The custom gateway end to end, and outgoing event webhooks, over real HTTP.

The reference merchant server (``merchant``, below; the same one docs/gateways/custom.md
shows) verifies each action request with the ``standardwebhooks`` reference verifier and
answers with the updated record. Event deliveries go to a real local receiver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from standardwebhooks.webhooks import Webhook

from billingdesk.actions.models import ActionRequest
from billingdesk.api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billingdesk.api.tests.conftest import Receiver
from billingdesk.api.webhooks.services import endpoint_create, endpoint_rotate_secret
from billingdesk.billing.models import Charge, Customer
from billingdesk.core.outbound import signing_secret_new
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.tests.factories import limit_set

pytestmark = pytest.mark.django_db
Api = Callable[..., Client]
T1 = "2026-01-05T09:00:00+00:00"
T2 = "2026-01-05T10:00:00+00:00"


def merchant(secret: str) -> Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]:
    """The reference merchant: verify, then refund in its own books and answer the charge."""
    books: dict[str, dict[str, Any]] = {}

    def handle(seen: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            call = Webhook(secret).verify(seen["body"], seen["headers"])
        except Exception:
            return 401, {"message": "bad signature"}
        charge = books.setdefault(call["object"]["id"], dict(call["object"]))
        if call["action"] != "refund":
            return 422, {"message": f"{call['action']} is not done here"}
        charge.setdefault("amount_refunded", 0)
        amount = call["params"]["amount"] or charge["amount"] - charge["amount_refunded"]
        if charge["amount_refunded"] + amount > charge["amount"]:
            return 409, {"message": "That is more than was paid."}
        charge["amount_refunded"] += amount
        charge["status"] = (
            "refunded" if charge["amount_refunded"] == charge["amount"] else "partially_refunded"
        )
        charge["updated"] = datetime.now(UTC).isoformat()
        return 200, {"objects": [charge], "request_id": "mr_" + call["idempotency_key"][-6:]}

    return handle


@pytest.fixture
def custom(receiver: Receiver) -> tuple[GatewayAccount, str]:
    secret = signing_secret_new()
    account = GatewayAccount.objects.create(
        kind="custom", name="Own billing", default_currency="EUR",
        credentials={"action_url": receiver.url, "signing_secret": secret, "actions": "refund"},
    )  # fmt: skip
    receiver.handle = merchant(secret)
    limit_set("agent", 100_000)
    return account, secret


def _push(client: Client, account: GatewayAccount, objects: list[dict[str, Any]]) -> Any:
    return client.post(
        f"/api/v1/push/{account.pk}", {"objects": objects}, content_type="application/json"
    )


CUSTOMER = {"object": "customer", "id": "u-17", "updated": T1, "email": "zoe@example.com",
            "name": "Zoe Park"}  # fmt: skip
CHARGE = {
    "object": "charge", "id": "order-9001", "updated": T1, "customer_id": "u-17",
    "amount": 4900, "currency": "EUR", "status": "captured", "amount_captured": 4900,
}  # fmt: skip


def test_push_upserts_by_the_merchants_ids_and_never_goes_back(api: Api, custom: Any) -> None:
    account, _ = custom
    pusher = api("push")
    first = _push(pusher, account, [CUSTOMER, CHARGE])
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 2
    assert _push(pusher, account, [CUSTOMER, CHARGE]).json()["unchanged"] == 2
    newer = {**CHARGE, "updated": T2, "description": "Pro plan"}
    assert _push(pusher, account, [newer]).json()["updated"] == 1
    assert _push(pusher, account, [{**CHARGE, "description": "old"}]).json()["stale"] == 1
    charge = Charge.objects.get(account=account, gateway_id="order-9001")
    assert charge.description == "Pro plan" and charge.customer is not None
    assert Customer.objects.get(gateway_id="u-17").person is not None  # matched to a person


@pytest.mark.parametrize(
    "bad",
    [
        {"object": "charge", "id": "c1", "updated": T1},  # required fields missing
        {**CHARGE, "amount": "49.00"},
        {**CHARGE, "amount": 4.9},
        {**CHARGE, "status": "paid-ish"},
        {**CHARGE, "currency": "EURO"},
        {**CHARGE, "updated": "yesterday"},
        {**CHARGE, "updated": "2026-01-05T09:00:00"},
        {**CHARGE, "colour": "red"},
        {**CHARGE, "object": "payout"},
        {**CHARGE, "id": ""},
        {**CHARGE, "amount": 2**70},
    ],
)
def test_a_bad_object_refuses_the_whole_push_with_its_index(
    api: Api, custom: Any, bad: dict[str, Any]
) -> None:
    account, _ = custom
    response = _push(api("push"), account, [CUSTOMER, bad])
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] in ("objects.1", "objects")
    assert not Customer.objects.filter(gateway_id="u-17").exists()  # all or nothing


def test_push_refuses_other_gateways_and_too_many_objects(api: Api, custom: Any, shop: Any) -> None:
    pusher = api("push")
    assert _push(pusher, shop.account, [CUSTOMER]).status_code == 400
    account, _ = custom
    assert _push(pusher, account, [CUSTOMER] * 1001).status_code == 422


def test_a_refund_on_a_pushed_charge_goes_through_the_merchants_action_webhook(
    api: Api, custom: Any, receiver: Receiver
) -> None:
    account, _ = custom
    _push(api("push"), account, [CUSTOMER, CHARGE])
    charge = Charge.objects.get(account=account, gateway_id="order-9001")
    actor = api("actions")
    body = {"kind": "refund", "target_type": "charge", "target_id": charge.pk,
            "params": {"amount": 900}, "reason_code": "duplicate",
            "reason_text": "twice"}  # fmt: skip
    done = actor.post(
        "/api/v1/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="refund-key-1",
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "succeeded"
    sent = json.loads(receiver.requests[0]["body"])
    assert sent["action"] == "refund" and sent["params"]["amount"] == 900
    assert sent["object"]["id"] == "order-9001"
    assert sent["reason"] == {"code": "duplicate", "text": "twice"}
    assert sent["agent"]["name"].startswith("API key") and sent["agent"]["approved_by"] == ""
    assert receiver.requests[0]["headers"]["webhook-id"].startswith("act_")
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (900, "partially_refunded")
    # The merchant's refusal is shown as it said it.
    body["params"] = {"amount": 999_999}
    refused = actor.post(
        "/api/v1/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="refund-key-2",
    )
    assert refused.status_code in (400, 409)


def test_the_merchants_refusal_and_outage_map_onto_the_action_result(
    api: Api, custom: Any, receiver: Receiver
) -> None:
    account, _ = custom
    _push(api("push"), account, [CUSTOMER, CHARGE])
    charge = Charge.objects.get(account=account, gateway_id="order-9001")
    body = {"kind": "refund", "target_type": "charge", "target_id": charge.pk,
            "params": {"amount": 100}, "reason_code": "duplicate",
            "reason_text": "twice"}  # fmt: skip
    receiver.handle = lambda seen: (409, {"message": "Already refunded in our books."})
    refused = api("actions").post(
        "/api/v1/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="refund-key-3",
    )
    assert refused.status_code == 409
    assert refused.json()["message"] == "Already refunded in our books."
    receiver.handle = lambda seen: (503, {})
    down = api("actions").post(
        "/api/v1/actions",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="refund-key-4",
    )
    assert down.status_code == 503 and "503" in down.json()["message"]
    latest = ActionRequest.objects.order_by("-pk").first()
    assert latest is not None and latest.status == "failed" and latest.retryable


def test_only_enabled_actions_are_offered(custom: Any) -> None:
    from billingdesk.gateways.interface import Capability
    from billingdesk.gateways.registry import connector_for

    account, _ = custom
    connector = connector_for(account)
    assert connector.supports(Capability.REFUND)
    assert not connector.supports(Capability.VOID)
    assert not connector.supports(Capability.APPLY_COUPON)


def test_create_subscription_and_apply_coupon_go_to_the_merchant(
    api: Api, custom: Any, receiver: Receiver
) -> None:
    from billingdesk.gateways.interface import Capability
    from billingdesk.gateways.registry import connector_for

    account, secret = custom
    account.credentials = {**account.credentials, "actions": "create_subscription,apply_coupon"}
    account.save(update_fields=["credentials"])
    _push(api("push"), account, [CUSTOMER])
    receiver.handle = None
    receiver.replies = [(200, {"objects": [], "request_id": "m-1"}), (409, {"message": "Expired."})]
    connector = connector_for(account)
    assert connector.supports(Capability.CREATE_SUBSCRIPTION)
    assert connector.supports(Capability.APPLY_COUPON) and not connector.supports(Capability.REFUND)
    made = connector.subscription_create(customer_id="u-17", plan="pro", idempotency_key="sub-k1")
    assert made.request_id == "m-1"
    sent = Webhook(secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])
    assert sent["action"] == "create_subscription" and sent["params"]["plan"] == "pro"
    assert sent["object"]["email"] == "zoe@example.com"
    from billingdesk.core.errors import NotAllowed

    with pytest.raises(NotAllowed, match="Expired"):
        connector.coupon_apply(coupon_id="SPRING", customer_id="u-17", idempotency_key="cp-k1")
    sent = json.loads(receiver.requests[1]["body"])
    assert (sent["action"], sent["params"]) == ("apply_coupon", {"coupon_id": "SPRING"})


# --- outgoing event webhooks ---------------------------------------------------------------


def test_events_are_stored_signed_and_delivered(
    api: Api, custom: Any, receiver: Receiver, drain_tasks: Callable[[], None]
) -> None:
    account, _ = custom
    events = Receiver()
    try:
        endpoint = endpoint_create(url=events.url, event_types=["charge.*"])
        _push(api("push"), account, [CUSTOMER, CHARGE])
        assert WebhookDelivery.objects.count() == 1  # stored before it is sent
        drain_tasks()
        assert len(events.requests) == 1
        seen = events.requests[0]
        payload = Webhook(endpoint.secret).verify(seen["body"], seen["headers"])
        assert payload["type"] == "charge.created"
        assert payload["data"]["amount"] == 4900 and payload["data"]["currency"] == "EUR"
        assert WebhookDelivery.objects.get().status == "succeeded"
        assert WebhookAttempt.objects.get().status_code == 200
    finally:
        events.close()


def test_a_failed_delivery_is_retried_with_the_same_id_and_410_disables(
    api: Api, custom: Any, drain_tasks: Callable[[], None], settings: Any
) -> None:
    settings.API_WEBHOOK_RETRY_DELAYS = [0, 0]
    account, _ = custom
    events = Receiver()
    try:
        endpoint_create(url=events.url, event_types=[])
        events.replies = [(500, {}), (410, {})]
        _push(api("push"), account, [CHARGE])
        drain_tasks()
        ids = {r["headers"]["webhook-id"] for r in events.requests}
        assert len(events.requests) == 2 and len(ids) == 1
        endpoint = WebhookEndpoint.objects.get()
        assert not endpoint.is_active and "410" in endpoint.disabled_reason
        assert WebhookDelivery.objects.get().status == "failed"
        _push(api("push"), account, [{**CHARGE, "updated": T2}])
        assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets nothing new
    finally:
        events.close()


def test_during_a_rotation_both_secrets_sign(
    api: Api, custom: Any, drain_tasks: Callable[[], None]
) -> None:
    account, _ = custom
    events = Receiver()
    try:
        endpoint = endpoint_create(url=events.url, event_types=["charge.created"])
        old = endpoint.secret
        new = endpoint_rotate_secret(endpoint=endpoint)
        _push(api("push"), account, [CHARGE])
        drain_tasks()
        seen = events.requests[0]
        assert len(seen["headers"]["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(seen["body"], seen["headers"])
        Webhook(new).verify(seen["body"], seen["headers"])
    finally:
        events.close()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http://127.0.0.1/x", "http://10.1.2.3/x", "http://[::1]/"]
)
def test_private_and_non_http_targets_are_refused(url: str, settings: Any) -> None:
    from billingdesk.core.errors import InvalidRequest

    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(InvalidRequest):
        endpoint_create(url=url, event_types=[])
