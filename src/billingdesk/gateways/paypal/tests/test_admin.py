"""The admin's account form for PayPal: the secret is a password input, the rest plain."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_add_form_asks_for_the_paypal_credentials(admin_client: Client) -> None:
    content = admin_client.get(reverse("admin:gateways_gatewayaccount_add")).content.decode()
    for name in ("client_id", "environment", "webhook_id"):
        assert f'name="credential__paypal__{name}" ' in content and "sandbox or live" in content
    secret = content.split('name="credential__paypal__client_secret"')[0].rsplit("<input", 1)[1]
    assert 'type="password"' in secret


def test_refused_paypal_credentials_save_nothing(admin_client: Client) -> None:
    from billingdesk.gateways.models import GatewayAccount

    response = admin_client.post(
        reverse("admin:gateways_gatewayaccount_add"),
        {
            "name": "PayPal shop", "kind": "paypal", "is_active": "on",
            "credential__paypal__client_id": "AY1", "credential__paypal__client_secret": "EL1",
            "credential__paypal__environment": "staging", "credential__paypal__webhook_id": "WH",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "PayPal refused these credentials" in response.content.decode()
    assert "sandbox" in response.content.decode()
    assert not GatewayAccount.objects.exists()
