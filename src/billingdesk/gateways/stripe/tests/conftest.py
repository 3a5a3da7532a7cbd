"""Fixtures for the Stripe connector tests: a real localstripe server (started once per
session on a free port with isolated state, see ``localstripe_server``), the HTTP fake, and
accounts pointed at either."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import stripe

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.stripe.tests.localstripe_server import TEST_KEY, start_localstripe
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

WEBHOOK_SECRET = "whsec_test_billingdesk"


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def localstripe(localstripe_server: str) -> str:
    """The localstripe URL, emptied first so each test sees only its own objects."""
    request = urllib.request.Request(
        localstripe_server + "/_config/data",
        method="DELETE",
        headers={"Authorization": f"Bearer {TEST_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    return localstripe_server


@pytest.fixture
def seed(localstripe: str) -> stripe.StripeClient:
    """The official SDK pointed at localstripe, for arranging data independently of the
    connector under test."""
    return stripe.StripeClient(
        TEST_KEY, base_addresses={"api": localstripe}, http_client=stripe.RequestsClient()
    )


@pytest.fixture
def fake() -> Iterator[StripeFake]:
    with StripeFake() as server:
        yield server


def make_account(api_base: str, *, key: str = TEST_KEY, name: str = "Stripe EU") -> GatewayAccount:
    return GatewayAccount.objects.create(
        kind="stripe",
        name=name,
        credentials={"secret_key": key, "api_base": api_base},
        webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def account(localstripe: str) -> GatewayAccount:
    return make_account(localstripe)


@pytest.fixture
def fake_account(fake: StripeFake) -> GatewayAccount:
    return make_account(fake.url, name="Stripe (fake)")
