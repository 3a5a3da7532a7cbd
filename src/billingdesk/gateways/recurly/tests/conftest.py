"""The fake Recurly API as a real server, and accounts of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.recurly.connector import RecurlyConnector
from billingdesk.gateways.registry import connector_for

API_KEY = "rk_live_shop"


@pytest.fixture
def fake() -> Iterator[RecurlyFake]:
    with RecurlyFake() as server:
        yield server


def make_account(
    fake: RecurlyFake,
    *,
    api_key: str = API_KEY,
    currency: str = "USD",
    subdomain: str = "acme",
    region: str = "us",
) -> GatewayAccount:
    return GatewayAccount.objects.create(
        kind="recurly",
        name=f"Recurly {subdomain}",
        default_currency=currency,
        credentials={
            "api_key": api_key,
            "region": region,
            "subdomain": subdomain,
            "api_base": fake.url,
        },
    )


@pytest.fixture
def site(fake: RecurlyFake) -> Site:
    return fake.site(API_KEY, subdomain="acme", currency="USD")


@pytest.fixture
def account(fake: RecurlyFake, site: Site, db: None) -> GatewayAccount:
    return make_account(fake)


@pytest.fixture
def connector(account: GatewayAccount) -> RecurlyConnector:
    found = connector_for(account)
    assert isinstance(found, RecurlyConnector)
    found.read_retries = 0
    found.timeout = 2.0
    return found
