"""The fake WooCommerce shop as a real server, and accounts of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector


@pytest.fixture
def fake() -> Iterator[WooFake]:
    with WooFake() as server:
        yield server


def make_account(
    fake: WooFake, shop: Shop, *, secret: str | None = None, name: str = ""
) -> GatewayAccount:
    return GatewayAccount.objects.create(
        kind="woocommerce",
        name=name or f"Woo {shop.name}",
        default_currency=shop.currency,
        credentials={
            "site_url": fake.site_url(shop),
            "consumer_key": shop.key,
            "consumer_secret": secret or shop.secret,
        },
    )


@pytest.fixture
def shop(fake: WooFake) -> Shop:
    return fake.shop("shop")


@pytest.fixture
def account(fake: WooFake, shop: Shop, db: None) -> GatewayAccount:
    return make_account(fake, shop)


@pytest.fixture
def connector(account: GatewayAccount) -> WooCommerceConnector:
    found = connector_for(account)
    assert isinstance(found, WooCommerceConnector)
    found.read_retries = 0
    return found
