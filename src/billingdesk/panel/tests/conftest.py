"""Fixtures of the console and panel tests (builders in ``factories``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from billingdesk.billing.models import Customer
from billingdesk.gateways.models import GatewayAccount

from .factories import Shop, add_customer, agent, build_shop


@pytest.fixture
def eu(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(
        kind="sandbox",
        name="EU store",
        default_currency="EUR",
        dashboard_url="https://dashboard.example/eu",
    )


@pytest.fixture
def us(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name="US SaaS", default_currency="USD")


@pytest.fixture
def ana(eu: GatewayAccount, us: GatewayAccount) -> Customer:
    """Ana has a customer in each account (matched by email) and a few charges."""
    add_customer(
        eu, "cus_ana_eu", charges=3, email="Ana.Lopez@example.com", name="Ana López",
        phone="+33 6 12 34 56 78", country="FR", last4="1111",
    )  # fmt: skip
    return add_customer(
        us, "cus_ana_us", charges=1, currency="USD", email="ana.lopez+us@example.com",
        name="Ana Lopez", last4="2222",
    )  # fmt: skip


@pytest.fixture
def client_as(db: None) -> Callable[..., Client]:
    """A logged-in client for a new agent with the given role."""

    def make(role: str = "agent", username: str | None = None) -> Client:
        client = Client()
        client.force_login(agent(role, username))
        return client

    return make


@pytest.fixture
def shop(db: None) -> Shop:
    return build_shop()
