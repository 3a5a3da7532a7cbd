"""The REST client's authentication and errors, against the fake shop (which checks OAuth
the way WooCommerce's PHP does, independently of the client's code)."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.woocommerce_api import Shop, WooFake, php_oauth_signature

from billingdesk.core.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    RateLimited,
)
from billingdesk.gateways.woocommerce import client
from billingdesk.gateways.woocommerce.connector import WooCommerceConnector
from billingdesk.gateways.woocommerce.tests.conftest import make_account

pytestmark = pytest.mark.django_db


def test_the_oauth_signature_matches_woocommerces_way_of_checking_it() -> None:
    params = {
        "oauth_consumer_key": "ck_abc",
        "oauth_timestamp": "1700000000",
        "oauth_nonce": "n0nce",
        "oauth_signature_method": "HMAC-SHA256",
        "modified_after": "2026-01-05T09:00:00",
        "search": "Zoë & co/100%",
        "page": "2",
    }
    url = "http://shop.example/wp-json/wc/v3/orders"
    assert client.oauth_signature("GET", url, params, "cs_xyz") == php_oauth_signature(
        "GET", url, params, "cs_xyz"
    )


def test_plain_http_requests_are_oauth_signed_and_a_wrong_secret_is_refused(
    fake: WooFake, shop: Shop
) -> None:
    fake.add_customer(shop, email="a@example.com")
    WooCommerceConnector(make_account(fake, shop)).check_credentials()
    with pytest.raises(AuthenticationFailed, match="signature"):
        WooCommerceConnector(
            make_account(fake, shop, secret="cs_wrong", name="Wrong")
        ).check_credentials()


def test_bad_site_urls_and_missing_keys_are_plain_errors(fake: WooFake, shop: Shop) -> None:
    with pytest.raises(InvalidRequest, match="site URL"):
        client.WooApi({"site_url": "ftp://shop", "consumer_key": "k", "consumer_secret": "s"})
    with pytest.raises(AuthenticationFailed, match="consumer secret"):
        client.WooApi({"site_url": "https://shop.example", "consumer_key": "ck_1"})


def test_wordpress_error_bodies_become_distinct_errors(fake: WooFake, shop: Shop) -> None:
    api = client.WooApi(make_account(fake, shop).credentials, read_retries=0)
    with pytest.raises(NotFound) as missing:
        api.request("GET", "/orders/999")
    assert "Invalid ID" in missing.value.message
    with pytest.raises(NotFound) as no_route:
        api.request("GET", "/no-such-thing")
    assert no_route.value.code == "no_route"
    with pytest.raises(InvalidRequest, match="per_page"):
        api.request("GET", "/orders", params={"per_page": 500})
    fake.fail_next(429)
    with pytest.raises(RateLimited):
        api.request("GET", "/orders")


def test_a_read_is_retried_after_a_server_error(fake: WooFake, shop: Shop) -> None:
    api = client.WooApi(make_account(fake, shop).credentials, read_retries=2, sleep=lambda s: None)
    fake.fail_next(503, times=2)
    assert api.request("GET", "/orders").status == 200
    assert api.calls == 3


# --- HTTPS: HTTP Basic ------------------------------------------------------------------------
@pytest.fixture
def tls_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WooFake]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_path))  # trust the test certificate
    with WooFake(tls=context) as server:
        yield server


def test_over_https_the_keys_go_as_http_basic(tls_fake: WooFake) -> None:
    shop = tls_fake.shop("secure")
    account = make_account(tls_fake, shop)
    assert account.credentials["site_url"].startswith("https://")
    WooCommerceConnector(account).check_credentials()
    with pytest.raises(AuthenticationFailed, match="secret is invalid"):
        WooCommerceConnector(
            make_account(tls_fake, shop, secret="cs_old", name="Old")
        ).check_credentials()
