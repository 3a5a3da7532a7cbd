"""The fake PayPal REST API as a real server, a test CA signing as PayPal, and accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake
from tests.fakes.paypal_signer import PayPalSigner

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.paypal.client import forget_tokens
from billingdesk.gateways.paypal.connector import PayPalConnector
from billingdesk.gateways.paypal.verify import forget_certificates
from billingdesk.gateways.registry import connector_for

CERT_NAME = "CERT-360caa42-fca2a594-a5cafa77"


@pytest.fixture(scope="session")
def signer() -> PayPalSigner:
    return PayPalSigner()


@pytest.fixture
def fake(signer: PayPalSigner, settings: object, tmp_path: Path) -> Iterator[PayPalFake]:
    with PayPalFake() as server:
        server.add_cert(CERT_NAME, signer.chain_pem)
        settings.PAYPAL_CERT_TEST_URL_PREFIXES = [server.url]  # type: ignore[attr-defined]
        settings.PAYPAL_CERT_TRUST_ROOTS = signer.write_root(tmp_path)  # type: ignore[attr-defined]
        yield server
    forget_tokens()
    forget_certificates()


def cert_url(fake: PayPalFake) -> str:
    return f"{fake.url}/v1/notifications/certs/{CERT_NAME}"


def make_account(
    fake: PayPalFake, *, client_id: str = "shop", currency: str = "EUR", name: str = ""
) -> GatewayAccount:
    m = fake.merchant(client_id, f"secret_{client_id}", currency)
    m.webhooks.add(f"WH-{client_id}")
    return GatewayAccount.objects.create(
        kind="paypal",
        name=name or f"PayPal {client_id}",
        default_currency=currency,
        credentials={
            "client_id": client_id,
            "client_secret": f"secret_{client_id}",
            "environment": "sandbox",
            "webhook_id": f"WH-{client_id}",
            "api_base": fake.url,
        },
    )


@pytest.fixture
def account(fake: PayPalFake, db: None) -> GatewayAccount:
    return make_account(fake)


@pytest.fixture
def merchant(fake: PayPalFake, account: GatewayAccount) -> Merchant:
    return fake.merchants["shop"]


@pytest.fixture
def connector(account: GatewayAccount) -> PayPalConnector:
    found = connector_for(account)
    assert isinstance(found, PayPalConnector)
    found.retry_base_delay = 0.001
    return found
