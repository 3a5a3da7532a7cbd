"""The fake Braintree gateway as a real server, and accounts of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.fakes.braintree_gateway import BraintreeFake, Merchant

from billingdesk.gateways.braintree.connector import BraintreeConnector
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for


@pytest.fixture
def fake() -> Iterator[BraintreeFake]:
    with BraintreeFake() as server:
        yield server


def make_account(
    fake: BraintreeFake, *, merchant_id: str = "shop", currency: str = "EUR", name: str = ""
) -> GatewayAccount:
    fake.merchant(merchant_id, f"pub_{merchant_id}", f"priv_{merchant_id}", currency)
    return GatewayAccount.objects.create(
        kind="braintree",
        name=name or f"Braintree {merchant_id}",
        default_currency=currency,
        credentials={
            "merchant_id": merchant_id,
            "public_key": f"pub_{merchant_id}",
            "private_key": f"priv_{merchant_id}",
            "environment": "sandbox",
            "api_base": fake.url,
        },
    )


@pytest.fixture
def account(fake: BraintreeFake, db: None) -> GatewayAccount:
    return make_account(fake)


@pytest.fixture
def merchant(fake: BraintreeFake, account: GatewayAccount) -> Merchant:
    return fake.merchants["shop"]


@pytest.fixture
def connector(account: GatewayAccount) -> BraintreeConnector:
    found = connector_for(account)
    assert isinstance(found, BraintreeConnector)
    found.read_retries = 0
    return found


def customer_with_card(
    fake: BraintreeFake, m: Merchant, email: str, **card: Any
) -> tuple[str, str]:
    customer = fake.add_customer(m, email=email, first_name="Ada", last_name="Lovelace")
    method = fake.add_card(m, customer["id"], **card)
    return str(customer["id"]), str(method["token"])
