"""The Django admin: every page opens, the mirror is read-only, secrets stay write-only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from billingdesk.billing.admin import CappedCountPaginator
from billingdesk.billing.models import Charge, Customer, Person
from billingdesk.core.errors import AuthenticationFailed
from billingdesk.gateways import registry
from billingdesk.gateways.interface import Capability, Connector, EventEnvelope, ObjectKind, Page
from billingdesk.gateways.models import GatewayAccount, SyncRun, WebhookEvent

T0 = datetime(2025, 6, 1, tzinfo=UTC)
GOOD_KEY = "key_good_0123456789"
STORED_KEY = "key_stored_secret_value_42"
STORED_WEBHOOK_SECRET = "whsec_stored_secret_value_42"


class CheckedConnector(Connector):
    """A gateway whose credential check accepts one key only."""

    kind = "checked"
    display_name = "Checked gateway"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    credential_fields = ("api_key",)

    def check_credentials(self) -> None:
        if self.account.credentials.get("api_key") not in (GOOD_KEY, STORED_KEY):
            raise AuthenticationFailed("the API key was refused")

    def list_page(self, kind: ObjectKind, cursor: str | None) -> Page:
        return Page(objects=[], next_cursor=None)

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        return None

    def read_envelope(self, body: bytes) -> EventEnvelope:
        raise NotImplementedError

    def parse_webhook(self, body: bytes):  # type: ignore[no-untyped-def]
        raise NotImplementedError


@pytest.fixture
def checked_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[CheckedConnector]]:
    # monkeypatch removes the registration after the test, so no other test sees this kind.
    monkeypatch.setitem(registry._CONNECTORS, CheckedConnector.kind, CheckedConnector)
    yield CheckedConnector


@pytest.fixture
def mirror(db: None) -> GatewayAccount:
    account = GatewayAccount.objects.create(kind="sandbox", name="EU store")
    person = Person.objects.create(name="Ana Lopez", primary_email="ana@example.com")
    customer = Customer.objects.create(
        account=account,
        gateway_id="cus_1",
        gateway_updated_at=T0,
        email="ana@example.com",
        email_normalized="ana@example.com",
        person=person,
    )
    Charge.objects.create(
        account=account,
        gateway_id="ch_1",
        gateway_updated_at=T0,
        customer=customer,
        customer_ref="cus_1",
        amount=1999,
        currency="EUR",
        status="captured",
        card_last4="4242",
        order_id="order-77",
    )
    WebhookEvent.objects.create(
        account=account,
        body=b'{"id": "evt_1", "type": "charge.updated", "note": "<script>x</script>"}',
        status=WebhookEvent.Status.FAILED,
        event_id="evt_1",
        event_type="charge.updated",
        error="boom",
    )
    SyncRun.objects.create(account=account, counts={"customer": 1, "charge": 1}, pages=2)
    return account


def test_superuser_opens_every_changelist_and_object_page(
    admin_client: Client, mirror: GatewayAccount
) -> None:
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url
        # A search must not fail either (exact-match search on indexed columns).
        response = admin_client.get(url, {"q": "ana@example.com"})
        assert response.status_code == 200, url
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            assert admin_client.get(url).status_code == 200, url


def test_search_finds_a_charge_by_last4_and_order_id(
    admin_client: Client, mirror: GatewayAccount
) -> None:
    url = reverse("admin:billing_charge_changelist")
    assert "ch_1" in admin_client.get(url, {"q": "4242"}).content.decode()
    assert "ch_1" in admin_client.get(url, {"q": " order-77 "}).content.decode()
    assert "ch_1" not in admin_client.get(url, {"q": "9999"}).content.decode()


def test_mirrored_data_cannot_be_added_changed_or_deleted(
    admin_client: Client, mirror: GatewayAccount
) -> None:
    charge = Charge.objects.get()
    assert admin_client.get(reverse("admin:billing_charge_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:billing_charge_change", args=[charge.pk]), {"amount": 1}
    )
    assert response.status_code == 403
    assert (
        admin_client.get(reverse("admin:billing_charge_delete", args=[charge.pk])).status_code
        == 403
    )
    charge.refresh_from_db()
    assert charge.amount == 1999


def test_webhook_body_is_shown_as_escaped_text(
    admin_client: Client, mirror: GatewayAccount
) -> None:
    event = WebhookEvent.objects.get()
    content = admin_client.get(
        reverse("admin:gateways_webhookevent_change", args=[event.pk])
    ).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in content
    assert "<script>x</script>" not in content


def test_process_again_queues_failed_events(
    admin_client: Client,
    mirror: GatewayAccount,
    drain_tasks,  # type: ignore[no-untyped-def]
) -> None:
    event = WebhookEvent.objects.get()
    response = admin_client.post(
        reverse("admin:gateways_webhookevent_changelist"),
        {"action": "process_again", "_selected_action": [event.pk]},
        follow=True,
    )
    assert "1 event(s) queued" in response.content.decode()
    drain_tasks()
    event.refresh_from_db()
    assert event.attempts == 1  # the worker ran it again


def test_account_form_never_renders_stored_secrets(
    admin_client: Client, checked_kind: type[CheckedConnector]
) -> None:
    account = GatewayAccount.objects.create(
        kind="checked",
        name="Shop",
        credentials={"api_key": STORED_KEY},
        webhook_secret=STORED_WEBHOOK_SECRET,
    )
    content = admin_client.get(
        reverse("admin:gateways_gatewayaccount_change", args=[account.pk])
    ).content.decode()
    assert STORED_KEY not in content
    assert STORED_WEBHOOK_SECRET not in content
    assert 'type="password"' in content
    assert account.webhook_url in content
    assert "api_key set" in content


def test_account_form_blank_secret_keeps_the_stored_one(
    admin_client: Client, checked_kind: type[CheckedConnector]
) -> None:
    account = GatewayAccount.objects.create(
        kind="checked",
        name="Shop",
        credentials={"api_key": STORED_KEY},
        webhook_secret=STORED_WEBHOOK_SECRET,
    )
    response = admin_client.post(
        reverse("admin:gateways_gatewayaccount_change", args=[account.pk]),
        {"name": "Shop renamed", "default_currency": "EUR", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()
    account.refresh_from_db()
    assert account.name == "Shop renamed"
    assert account.credentials == {"api_key": STORED_KEY}
    assert account.webhook_secret == STORED_WEBHOOK_SECRET


def test_account_form_refuses_credentials_the_gateway_refuses(
    admin_client: Client, checked_kind: type[CheckedConnector]
) -> None:
    response = admin_client.post(
        reverse("admin:gateways_gatewayaccount_add"),
        {
            "name": "Shop",
            "kind": "checked",
            "credential__checked__api_key": "wrong",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "the API key was refused" in response.content.decode()
    assert "wrong" not in response.content.decode()
    assert not GatewayAccount.objects.exists()


def test_account_form_requires_the_credentials_of_the_chosen_kind(
    admin_client: Client, checked_kind: type[CheckedConnector]
) -> None:
    response = admin_client.post(
        reverse("admin:gateways_gatewayaccount_add"),
        {"name": "Shop", "kind": "checked", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Enter the api key." in response.content.decode()
    assert not GatewayAccount.objects.exists()


def test_account_form_saves_accepted_credentials_encrypted(
    admin_client: Client, checked_kind: type[CheckedConnector]
) -> None:
    response = admin_client.post(
        reverse("admin:gateways_gatewayaccount_add"),
        {
            "name": "Shop",
            "kind": "checked",
            "credential__checked__api_key": GOOD_KEY,
            "webhook_secret_input": "whsec_from_gateway",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    account = GatewayAccount.objects.get()
    assert account.credentials == {"api_key": GOOD_KEY}
    assert account.webhook_secret == "whsec_from_gateway"


def test_sandbox_kind_is_offered_and_accounts_cannot_be_deleted(
    admin_client: Client, mirror: GatewayAccount
) -> None:
    content = admin_client.get(reverse("admin:gateways_gatewayaccount_add")).content.decode()
    assert 'value="sandbox"' in content
    url = reverse("admin:gateways_gatewayaccount_delete", args=[mirror.pk])
    assert admin_client.get(url).status_code == 403


def test_changelists_count_at_most_the_cap(
    admin_client: Client, mirror: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPaginator, "CAP", 1)
    Charge.objects.create(
        account=mirror,
        gateway_id="ch_2",
        gateway_updated_at=T0,
        amount=1,
        currency="EUR",
        status="captured",
    )
    response = admin_client.get(reverse("admin:billing_charge_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1  # counted no further than the cap
