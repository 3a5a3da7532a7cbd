"""The official client against the fake: auth, the versioned media type, envelopes, errors,
and amounts read as Decimal (never floats)."""

from __future__ import annotations

import base64
import http.client
import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from tests.fakes.recurly_api import ACCEPT, RecurlyFake, Site

from billingdesk.core.errors import (
    AuthenticationFailed,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    RateLimited,
)
from billingdesk.gateways.recurly import mapping
from billingdesk.gateways.recurly.client import RecurlyApi
from billingdesk.gateways.recurly.connector import RecurlyConnector

from .conftest import API_KEY


def _raw(fake: RecurlyFake, path: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    parts = urlsplit(fake.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    return response.status, body


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def test_the_fake_wants_the_api_key_and_the_api_version(fake: RecurlyFake, site: Site) -> None:
    status, body = _raw(fake, "/accounts", {"Accept": ACCEPT})
    assert status == 401 and body["error"]["type"] == "unauthorized"  # type: ignore[index]
    status, body = _raw(fake, "/accounts", {"Authorization": _basic(API_KEY)})
    assert status == 406 and body["error"]["type"] == "invalid_api_version"  # type: ignore[index]
    status, body = _raw(fake, "/accounts", {"Authorization": _basic(API_KEY), "Accept": ACCEPT})
    assert status == 200
    assert body == {"object": "list", "has_more": False, "next": None, "data": []}


def test_the_client_sends_basic_auth_and_the_versioned_accept_header(
    fake: RecurlyFake, site: Site
) -> None:
    api = RecurlyApi({"api_key": API_KEY, "api_base": fake.url})
    assert api.page("list_accounts", params={"limit": 1})["data"] == []
    wrong = RecurlyApi({"api_key": "rk_wrong", "api_base": fake.url})
    with pytest.raises(AuthenticationFailed, match="refused the API key"):
        wrong.page("list_accounts", params={"limit": 1})


def test_amounts_are_read_as_decimal_and_converted_by_the_currency_exponent(
    fake: RecurlyFake, site: Site
) -> None:
    customer = fake.add_account(site, email="a@example.com")
    fake.add_card(site, customer["id"])
    invoice = fake.purchase(site, customer["id"], "19.99")
    api = RecurlyApi({"api_key": API_KEY, "api_base": fake.url})
    raw = api.call("get_invoice", invoice["id"])
    assert raw["total"] == Decimal("19.99") and isinstance(raw["total"], Decimal)
    assert mapping.minor(raw["total"], "USD") == 1999
    assert mapping.minor(Decimal("1234"), "JPY") == 1234
    assert mapping.minor(Decimal("1.234"), "BHD") == 1234
    with pytest.raises(Exception, match="never as floats"):
        mapping.minor(19.99, "USD")
    # Sending: integer minor units become the exact decimal digits on the wire.
    assert json.dumps(mapping.wire_amount(1999, "USD")) == "19.99"
    assert json.dumps(mapping.wire_amount(5, "JPY")) == "5.0"
    with pytest.raises(InvalidRequest):
        mapping.wire_amount(10**18 + 1, "USD")


def test_errors_are_distinct_and_plain(fake: RecurlyFake, site: Site) -> None:
    api = RecurlyApi({"api_key": API_KEY, "api_base": fake.url})
    with pytest.raises(NotFound, match="Couldn't find Account"):
        api.call("get_account", "nope")
    fake.fail_next(429)
    with pytest.raises(RateLimited):
        api.call("get_account", "nope")
    fake.fail_next(500)
    with pytest.raises(GatewayUnavailable, match="server error"):
        api.call("get_account", "nope")
    fake.fail_next(503)
    with pytest.raises(GatewayUnavailable):
        api.call("get_account", "nope")
    # A read is retried on an operational error; the connection is usable afterwards.
    fake.fail_next(503, times=2)
    assert api.call("list_sites", retries=2, sleep=lambda s: None) is not None


def test_the_region_is_checked_and_chooses_the_host() -> None:
    assert RecurlyApi({"api_key": "k", "region": "eu"}).conn.host == "v3.eu.recurly.com"
    assert RecurlyApi({"api_key": "k"}).conn.host == "v3.recurly.com"
    with pytest.raises(InvalidRequest, match="'us' or 'eu'"):
        RecurlyApi({"api_key": "k", "region": "apac"})
    with pytest.raises(AuthenticationFailed, match="missing"):
        RecurlyApi({"region": "us"})


def test_check_credentials_verifies_the_key_and_the_subdomain(
    fake: RecurlyFake, connector: RecurlyConnector
) -> None:
    connector.check_credentials()
    connector.account.credentials = {**connector.account.credentials, "subdomain": "other"}
    connector.__dict__.pop("api", None)  # a new client for the new credentials
    with pytest.raises(InvalidRequest, match="does not reach the site 'other'"):
        connector.check_credentials()
