"""A customer pausing and resuming a subscription on the billing pages (issue 14): only where
the merchant allows it (``AccountPolicy.customers_may_pause``) and the gateway can, with a
confirm step, once per form, audited as the customer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from billingdesk.actions.audit import audit_verify
from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.models import Person, Subscription
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.panel.tests.factories import add_customer, build_shop
from billingdesk.portal.models import AccountPolicy
from billingdesk.portal.services import portal_link_create

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, person: Person) -> Client:
    assert client.get(urlsplit(portal_link_create(person=person)).path).status_code == 302
    return client


def _url(subscription: Subscription, action: str) -> str:
    return f"/billing/subscriptions/{subscription.pk}/{action}"


def test_pause_is_off_until_the_merchant_allows_it(client: Client) -> None:
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    _signed_in(client, shop.customer.person)
    assert "Pause this subscription" not in client.get("/billing/").content.decode()
    assert client.get(_url(shop.subscription, "pause")).status_code == 409
    refused = client.post(_url(shop.subscription, "pause"), {"key": "forged", "confirm": "yes"})
    assert refused.status_code == 409
    assert client.get(_url(shop.subscription, "nonsense")).status_code == 404
    assert not ActionRequest.objects.exists()


def test_customer_pauses_then_resumes_once_audited_as_the_customer(client: Client) -> None:
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_pause=True)
    _signed_in(client, shop.customer.person)
    history = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Suspendre cet abonnement" in history

    page = client.get(_url(shop.subscription, "pause"))
    assert page.status_code == 200 and "no renewal is charged" in page.content.decode()
    assert not ActionRequest.objects.exists()  # showing the confirm step does nothing
    key = page.context["key"]
    done = client.post(
        _url(shop.subscription, "pause"), {"key": key, "confirm": "yes"}, REMOTE_ADDR="203.0.113.9"
    )
    assert done.status_code == 302 and done["Location"] == "/billing/?paused=1"
    again = client.post(_url(shop.subscription, "pause"), {"key": key, "confirm": "yes"})
    assert again.status_code == 302  # a double submit finds the first request
    [request] = ActionRequest.objects.all()
    assert (request.kind, request.status) == ("pause_subscription", "succeeded")
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "paused"
    [entry] = AuditEntry.objects.filter(action="pause_subscription")
    assert entry.actor is None and entry.actor_name == "customer ana@example.com"
    assert entry.ip == "203.0.113.9" and entry.detail.startswith("source=customer")

    history = client.get("/billing/?paused=1").content.decode()
    assert 'id="paused"' in history and "Resume this subscription" in history
    assert "Pause this subscription" not in history
    # Pausing again is refused on the server, whatever an old page offered.
    assert client.get(_url(shop.subscription, "pause")).status_code == 409

    key = client.get(_url(shop.subscription, "resume")).context["key"]
    done = client.post(_url(shop.subscription, "resume"), {"key": key, "confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == "/billing/?resumed=1"
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
    assert audit_verify() is None


def test_someone_elses_subscription_is_not_found(client: Client) -> None:
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_pause=True)
    bob = add_customer(shop.account, "cus_bob", email="bob@example.com")
    _signed_in(client, bob.person)
    assert client.get(_url(shop.subscription, "pause")).status_code == 404
    assert client.post(_url(shop.subscription, "pause"), {"confirm": "yes"}).status_code == 404
    assert not ActionRequest.objects.exists()


def test_pause_needs_the_gateway_capability(client: Client, monkeypatch) -> None:
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_pause=True)
    monkeypatch.setattr(SandboxConnector, "capabilities", frozenset())
    _signed_in(client, shop.customer.person)
    assert "Pause this subscription" not in client.get("/billing/").content.decode()
    assert client.get(_url(shop.subscription, "pause")).status_code == 409
