"""A customer cancelling a subscription (through the agents' action service, once, audited as
the customer, only where the merchant allows it), and the pages wearing the person's brand
and framed only by its origins."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from billingdesk.actions.audit import audit_verify
from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.models import Subscription
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.gateways.interface import Capability
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.panel.tests.factories import add_customer, build_shop
from billingdesk.portal.branding import origins_parse, text_on
from billingdesk.portal.models import AccountPolicy, BrandPortal
from billingdesk.portal.services import portal_link_create

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, person) -> Client:
    assert client.get(urlsplit(portal_link_create(person=person)).path).status_code == 302
    return client


def _cancel_url(subscription: Subscription) -> str:
    return f"/billing/subscriptions/{subscription.pk}/cancel"


def test_cancel_is_off_until_the_merchant_allows_it(client):
    shop = build_shop()
    _signed_in(client, shop.customer.person)
    history = client.get("/billing/").content.decode()
    assert "Your subscriptions" in history and "Cancel this subscription" not in history
    refused = client.get(_cancel_url(shop.subscription))
    assert refused.status_code == 409 and "cannot be cancelled here" in refused.content.decode()
    assert client.post(_cancel_url(shop.subscription), {"confirm": "yes"}).status_code == 409
    assert not ActionRequest.objects.exists()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=False)
    assert client.get(_cancel_url(shop.subscription)).status_code == 409


def test_customer_cancels_at_period_end_once_audited_as_the_customer(client):
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    _signed_in(client, shop.customer.person)
    history = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cancelar esta suscripción" in history
    form = client.get(_cancel_url(shop.subscription))
    assert form.status_code == 200
    page = form.content.decode()
    assert "at the end of the period" in page and "Too expensive" in page
    assert "Requested by the customer" not in page  # the agents' own reason
    key = form.context["form"].initial["key"]
    # No reason: a form error, nothing done.
    bad = client.post(_cancel_url(shop.subscription), {"key": key, "reason": ""})
    assert bad.status_code == 400 and not ActionRequest.objects.exists()
    other = client.post(_cancel_url(shop.subscription), {"key": key, "reason": "other"})
    assert other.status_code == 400 and "few words" in other.content.decode()
    # The first post only asks for confirmation.
    ask = client.post(_cancel_url(shop.subscription), {"key": key, "reason": "too_expensive"})
    assert ask.status_code == 200 and ask.context["confirming"]
    assert "Yes, cancel my subscription" in ask.content.decode()
    assert not ActionRequest.objects.exists()
    confirm = {"key": key, "reason": "too_expensive", "reason_text": "", "confirm": "yes"}
    done = client.post(_cancel_url(shop.subscription), confirm, REMOTE_ADDR="203.0.113.9")
    assert done.status_code == 302 and done["Location"] == "/billing/?cancelled=1"
    # A double submit (or a reload) finds the first request: the gateway is asked once.
    again = client.post(_cancel_url(shop.subscription), confirm)
    assert again.status_code == 302
    [request] = ActionRequest.objects.all()
    assert (request.kind, request.status) == ("cancel_subscription", "succeeded")
    assert request.params == {"at_period_end": True} and request.reason_code == "too_expensive"
    shop.subscription.refresh_from_db()
    assert shop.subscription.cancel_at_period_end and shop.subscription.status == "active"
    [entry] = AuditEntry.objects.filter(action="cancel_subscription")
    assert entry.actor is None and entry.actor_name == "customer ana@example.com"
    assert entry.result == "succeeded" and entry.ip == "203.0.113.9"
    assert entry.detail.startswith("source=customer") and entry.reason_code == "too_expensive"
    assert audit_verify() is None
    history = client.get("/billing/?cancelled=1").content.decode()
    assert 'id="cancelled"' in history and "Cancel this subscription" not in history
    assert "ends on" in history


def test_cancel_at_once_where_the_gateway_cannot_wait(client, monkeypatch):
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    monkeypatch.setattr(
        SandboxConnector,
        "capabilities",
        frozenset(Capability) - {Capability.CANCEL_AT_PERIOD_END, Capability.DISPUTE_EVIDENCE},
    )
    _signed_in(client, shop.customer.person)
    form = client.get(_cancel_url(shop.subscription))
    assert "It will end at once" in form.content.decode()
    key = form.context["form"].initial["key"]
    done = client.post(
        _cancel_url(shop.subscription),
        {"key": key, "reason": "unused", "confirm": "yes"},
    )
    assert done.status_code == 302
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "canceled"
    assert ActionRequest.objects.get().params == {"at_period_end": False}


def test_cancel_needs_the_gateway_capability(client, monkeypatch):
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    monkeypatch.setattr(SandboxConnector, "capabilities", frozenset())
    _signed_in(client, shop.customer.person)
    assert "Cancel this subscription" not in client.get("/billing/").content.decode()
    assert client.get(_cancel_url(shop.subscription)).status_code == 409


def test_another_persons_subscription_is_not_found_and_keys_do_not_cross(client):
    shop = build_shop()
    AccountPolicy.objects.create(account=shop.account, customers_may_cancel=True)
    bob = add_customer(shop.account, "cus_bob", email="bob@example.com", name="Bob")
    bob_sub = Subscription.objects.get(customer=bob)
    _signed_in(client, shop.customer.person)
    assert client.get(_cancel_url(bob_sub)).status_code == 404
    assert client.get("/billing/subscriptions/99999999/cancel").status_code == 404
    key = client.get(_cancel_url(shop.subscription)).context["form"].initial["key"]
    confirm = {"key": key, "reason": "unused", "confirm": "yes"}
    assert client.post(_cancel_url(bob_sub), confirm).status_code == 404
    assert client.post(_cancel_url(shop.subscription), confirm).status_code == 302
    # Ana's used key, posted by Bob for his subscription: not found, nothing done to it.
    bob_client = _signed_in(Client(), bob.person)
    assert bob_client.post(_cancel_url(bob_sub), confirm).status_code == 404
    bob_sub.refresh_from_db()
    assert not bob_sub.cancel_at_period_end
    # A forged key is refused as a form that cannot be used, audited, nothing cancelled.
    forged = {"key": "forged", "reason": "unused", "confirm": "yes"}
    assert bob_client.post(_cancel_url(bob_sub), forged).status_code == 409
    bob_sub.refresh_from_db()
    assert not bob_sub.cancel_at_period_end
    assert ActionRequest.objects.count() == 1
    # CSRF applies.
    strict = _signed_in(Client(enforce_csrf_checks=True), bob.person)
    assert strict.post(_cancel_url(bob_sub), confirm).status_code == 403


# --- branding and framing -------------------------------------------------------------------


def test_pages_wear_the_persons_brand_and_deny_framing_by_default(client, drain_tasks):
    shop = shop_create("FR")
    shop.brand.footer = "Brûlerie Exemple SAS — RCS Paris 123 456 789"
    shop.brand.save()
    engine = SandboxEngine(shop.account, webhooks=False)
    engine.customer_create(email="jan@example.be", name="Jan Peeters", country="BE")
    from billingdesk.gateways.sync import account_backfill

    account_backfill(account=shop.account)
    from billingdesk.billing.models import Customer

    person = Customer.objects.get(account=shop.account).person
    _signed_in(client, person)
    page = client.get("/billing/")
    body = page.content.decode()
    assert shop.brand.name in body and "RCS Paris 123 456 789" in body
    assert f"background: {shop.brand.primary_color.upper()}" in body
    assert page["X-Frame-Options"] == "DENY"
    assert page["Content-Security-Policy"] == "frame-ancestors 'none'"
    BrandPortal.objects.create(
        brand=shop.brand,
        support_email="help@shop.example",
        frame_origins="https://shop.example\nhttps://www.shop.example:8443/",
    )
    for url in ("/billing/", "/billing/card", "/billing/tax-id", "/billing/ask"):
        framed = client.get(url)
        assert framed.status_code == 200, url
        assert framed["Content-Security-Policy"] == (
            "frame-ancestors https://shop.example https://www.shop.example:8443"
        )
        assert "X-Frame-Options" not in framed, url
        assert "help@shop.example" in framed.content.decode()
    # A page of no known person (the link form, a refused link) is never framed.
    for url in ("/billing/send-link", "/billing/link/tampered"):
        alone = client.get(url)
        assert alone["X-Frame-Options"] == "DENY"
        assert alone["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_another_brands_origins_do_not_frame_this_persons_pages(client):
    shop = build_shop()  # an account no brand covers, and no default brand
    _signed_in(client, shop.customer.person)
    page = client.get("/billing/")
    assert page["X-Frame-Options"] == "DENY" and "Brûlerie" not in page.content.decode()
    other = shop_create("DE")
    BrandPortal.objects.create(brand=other.brand, frame_origins="https://other.example")
    again = client.get("/billing/")
    assert again["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_frame_origins_are_validated():
    assert origins_parse(" https://a.example \n\nhttp://localhost:8000") == [
        "https://a.example",
        "http://localhost:8000",
    ]
    for bad in (
        "http://shop.example",  # not https
        "https://shop.example/path",
        "https://*.example",
        "https://a.example 'unsafe-inline'",
        "*",
        "javascript:alert(1)",
    ):
        with pytest.raises(ValidationError):
            origins_parse(bad)
    shop = shop_create("FR")
    settings = BrandPortal(brand=shop.brand, frame_origins="https://a.example/x")
    with pytest.raises(ValidationError):
        settings.full_clean()


def test_text_colour_keeps_contrast():
    assert text_on("#1F4E79") == "#FFFFFF"
    assert text_on("#FFEB3B") == "#000000"


def test_the_service_user_cannot_sign_in_and_is_made_once(client):
    from billingdesk.accounts.selectors import role_of
    from billingdesk.portal.subscriptions import SERVICE_USERNAME, service_user

    first, again = service_user(), service_user()
    assert first.pk == again.pk and first.username == SERVICE_USERNAME
    assert not first.has_usable_password() and role_of(first) == "agent"
    assert not client.login(username=SERVICE_USERNAME, password="")


def test_merchant_signed_embedding_url_opens_the_customers_pages(client, monkeypatch):
    import time as clock

    from billingdesk.portal.branding import embed_signature

    shop = shop_create("FR")
    engine = SandboxEngine(shop.account, webhooks=False)
    cus = engine.customer_create(email="jan@example.be", name="Jan Peeters", country="BE")
    from billingdesk.gateways.sync import account_backfill

    account_backfill(account=shop.account)
    settings = BrandPortal.objects.create(
        brand=shop.brand, embed_secret="shared-with-the-shop", frame_origins="https://shop.example"
    )
    # Encrypted at rest: the column does not hold the secret.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT embed_secret FROM portal_brandportal WHERE id = %s", [settings.pk])
        assert "shared-with-the-shop" not in cursor.fetchone()[0]
    expires = int(clock.time()) + 600

    def url(customer: str = cus.object_id, exp: int = expires, secret: str = "shared-with-the-shop",
            brand: int = shop.brand.pk) -> str:  # fmt: skip
        sig = embed_signature(secret, brand_id=brand, customer=customer, expires=exp)
        return f"/billing/embed?brand={brand}&customer={customer}&expires={exp}&signature={sig}"

    opened = client.get(url())
    assert opened.status_code == 302 and opened["Location"] == "/billing/"
    page = client.get("/billing/")
    assert page.status_code == 200 and "Jan Peeters" in page.content.decode()
    assert page["Content-Security-Policy"] == "frame-ancestors https://shop.example"
    fresh = Client()
    for bad in (
        url(secret="wrong"),
        url(exp=int(clock.time()) - 1),  # expired
        url(exp=int(clock.time()) + 7200),  # too far ahead
        url(customer="cus_nobody"),
        url().replace("customer=", "customer=x"),  # tampered after signing
        "/billing/embed?brand=x&customer=&expires=&signature=",
    ):
        refused = fresh.get(bad)
        assert refused.status_code == 403, bad
        assert fresh.get("/billing/").status_code == 410  # no session
    # Another brand's secret does not open this brand's customers.
    other = shop_create("DE")
    BrandPortal.objects.create(brand=other.brand, embed_secret="other-shop")
    assert fresh.get(url(secret="other-shop", brand=other.brand.pk)).status_code == 403
    # No secret: no embedding URLs.
    settings.embed_secret = ""
    settings.save()
    assert fresh.get(url(secret="")).status_code == 403
