"""The connectors the contract suite runs against, each through its harness.

A new gateway connector is added here (one harness in ``harness.py`` and one entry in
``GATEWAY_HARNESSES``); it is "done" when every case of the suite passes for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from importlib import import_module

import pytest

from billingdesk.gateways import registry
from billingdesk.gateways.reference import service
from billingdesk.gateways.reference.connector import ReferenceConnector

# The Stripe fixtures (a session localstripe, emptied per test; the SDK to arrange data).
from billingdesk.gateways.stripe.tests.conftest import (  # noqa: F401
    localstripe,
    localstripe_server,
    seed,
)
from billingdesk.helpdesks.tests.conftest import no_sleep  # noqa: F401
from tests.contract.harness import (
    BraintreeHarness,
    CustomHarness,
    GatewayHarness,
    PayPalHarness,
    ReferenceHarness,
    SandboxHarness,
    StripeHarness,
    WooCommerceHarness,
)

GATEWAY_HARNESSES: dict[str, Callable[[pytest.FixtureRequest], GatewayHarness]] = {}


def _reference(request: pytest.FixtureRequest) -> GatewayHarness:
    # The reference app is not installed by default: register its connector for the test.
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setitem(registry._CONNECTORS, ReferenceConnector.kind, ReferenceConnector)
    request.addfinalizer(service.reset)
    return ReferenceHarness()


def _sandbox(request: pytest.FixtureRequest) -> GatewayHarness:
    return SandboxHarness()


def _stripe(request: pytest.FixtureRequest) -> GatewayHarness:
    from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

    upstream = request.getfixturevalue("localstripe")
    fake = StripeFake(upstream=upstream)
    fake.__enter__()
    request.addfinalizer(lambda: fake.__exit__(None, None, None))
    return StripeHarness(fake, request.getfixturevalue("seed"))


def _custom(request: pytest.FixtureRequest) -> GatewayHarness:
    from billingdesk.core.outbound import signing_secret_new
    from tests.fakes.custom_merchant import Merchant

    settings = request.getfixturevalue("settings")
    settings.OUTBOUND_ALLOW_PRIVATE = True  # the merchant is on 127.0.0.1
    settings.OUTBOUND_TIMEOUT_SECONDS = 0.5
    merchant = Merchant(signing_secret_new(), slow_seconds=1.5)
    request.addfinalizer(merchant.close)
    return CustomHarness(merchant)


def _braintree(request: pytest.FixtureRequest) -> GatewayHarness:
    from tests.fakes.braintree_gateway import BraintreeFake

    fake = BraintreeFake().__enter__()
    request.addfinalizer(lambda: fake.__exit__(None, None, None))
    return BraintreeHarness(fake)


def _paypal(request: pytest.FixtureRequest) -> GatewayHarness:
    from billingdesk.gateways.paypal.client import forget_tokens
    from billingdesk.gateways.paypal.verify import forget_certificates
    from tests.fakes.paypal_api import PayPalFake

    fake = PayPalFake().__enter__()
    request.addfinalizer(lambda: fake.__exit__(None, None, None))
    request.addfinalizer(forget_tokens)
    request.addfinalizer(forget_certificates)
    signer = request.getfixturevalue("paypal_signer")
    settings = request.getfixturevalue("settings")
    settings.PAYPAL_CERT_TEST_URL_PREFIXES = [fake.url]
    settings.PAYPAL_CERT_TRUST_ROOTS = signer.write_root(request.getfixturevalue("tmp_path"))
    return PayPalHarness(fake, signer)


@pytest.fixture(scope="session")
def paypal_signer() -> object:
    from tests.fakes.paypal_signer import PayPalSigner

    return PayPalSigner()


GATEWAY_HARNESSES.update(
    braintree=_braintree, reference=_reference, sandbox=_sandbox, stripe=_stripe, custom=_custom
)
GATEWAY_HARNESSES.update(paypal=_paypal)
# Those that talk to a remote service, so can time out, be rate-limited, refuse a key.
REMOTE = {"braintree", "reference", "stripe", "custom"}
REMOTE.add("paypal")


def _recurly(request: pytest.FixtureRequest) -> GatewayHarness:
    from tests.contract.recurly_harness import RecurlyHarness
    from tests.fakes.recurly_api import RecurlyFake

    fake = RecurlyFake().__enter__()
    request.addfinalizer(lambda: fake.__exit__(None, None, None))
    return RecurlyHarness(fake)


GATEWAY_HARNESSES.update(recurly=_recurly)
REMOTE.add("recurly")


def _woocommerce(request: pytest.FixtureRequest) -> GatewayHarness:
    from tests.fakes.woocommerce_api import WooFake

    fake = WooFake().__enter__()
    request.addfinalizer(lambda: fake.__exit__(None, None, None))
    return WooCommerceHarness(fake)


GATEWAY_HARNESSES["woocommerce"] = _woocommerce
REMOTE.add("woocommerce")


def _installed(path: str) -> Callable[[pytest.FixtureRequest], GatewayHarness]:
    module, _, name = path.partition(":")
    cls = getattr(import_module(module), name)
    return lambda request: cls()  # type: ignore[no-any-return]


# A connector outside this repository joins the suite by naming its harness class
# ("package.module:Class", comma separated), as docs/architecture.md "Adding a gateway" shows.
for _path in filter(None, os.environ.get("BILLINGDESK_CONTRACT_HARNESSES", "").split(",")):
    _cls = getattr(import_module(_path.partition(":")[0]), _path.partition(":")[2])
    GATEWAY_HARNESSES[_cls.kind] = _installed(_path)
    if _cls.remote:
        REMOTE.add(_cls.kind)


@pytest.fixture(params=sorted(GATEWAY_HARNESSES))
def harness(request: pytest.FixtureRequest, db: None) -> Iterator[GatewayHarness]:
    yield GATEWAY_HARNESSES[request.param](request)


@pytest.fixture(params=sorted(REMOTE))
def remote_harness(request: pytest.FixtureRequest, db: None) -> Iterator[GatewayHarness]:
    """Only connectors with a remote service: the sandbox cannot time out or refuse a key."""
    yield GATEWAY_HARNESSES[request.param](request)
