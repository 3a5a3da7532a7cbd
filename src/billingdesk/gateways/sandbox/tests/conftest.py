"""Fixtures for the sandbox gateway's tests."""

from __future__ import annotations

import pytest

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject

VISA = "4242424242424242"


@pytest.fixture
def account(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name="Test store", default_currency="EUR")


@pytest.fixture
def engine(account: GatewayAccount) -> SandboxEngine:
    return SandboxEngine(account)


@pytest.fixture
def customer(engine: SandboxEngine) -> SandboxObject:
    """A customer with a working Visa as default card."""
    customer = engine.customer_create(email="ana@example.com", name="Ana Lima", country="FR")
    engine.card_attach(customer_id=customer.object_id, number=VISA, exp_month=12, exp_year=2040)
    customer.refresh_from_db()
    return customer
