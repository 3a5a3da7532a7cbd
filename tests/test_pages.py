"""The sign-in and home pages: reachable, escaped, self-contained."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from billingdesk.gateways.models import GatewayAccount, WebhookEvent


@pytest.mark.django_db
def test_home_requires_sign_in(client: Client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_page_renders_without_external_assets(client: Client) -> None:
    content = client.get(reverse("login")).content.decode()
    assert 'name="username"' in content and 'name="password"' in content
    assert "csrfmiddlewaretoken" in content
    # No CDN, no web font: the page works with no network.
    assert "https://" not in content and "http://" not in content


@pytest.mark.django_db
def test_wrong_password_says_so(client: Client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_user("agent", password="right-password-123")
    response = client.post(reverse("login"), {"username": "agent", "password": "wrong"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode().lower()


@pytest.mark.django_db
def test_home_shows_accounts_counts_and_failed_events_escaped(admin_client: Client) -> None:
    account = GatewayAccount.objects.create(kind="sandbox", name="<b>EU</b> store")
    WebhookEvent.objects.create(account=account, body=b"{}", status=WebhookEvent.Status.FAILED)
    content = admin_client.get(reverse("home")).content.decode()
    assert "&lt;b&gt;EU&lt;/b&gt; store" in content
    assert "<b>EU</b>" not in content
    assert account.webhook_url in content
    assert "1 failed" in content
    assert "?status__exact=failed" in content
    assert reverse("admin:gateways_gatewayaccount_change", args=[account.pk]) in content
    # The customer billing pages are among the places to go.
    assert 'id="customer-pages"' in content and 'href="/billing/send-link"' in content
