"""The WooCommerce REST API v3 over ``requests``: authentication, pagination, errors.

WooCommerce authenticates a REST key pair (``ck_…`` / ``cs_…``) two ways, chosen by the
scheme of the site URL, as WooCommerce itself does (``WC_REST_Authentication``: Basic when
``is_ssl()``, OAuth otherwise):

* over HTTPS, HTTP Basic with the consumer key as user name and the secret as password;
* over plain HTTP, OAuth 1.0a "one-legged": the request carries ``oauth_consumer_key``,
  ``oauth_timestamp``, ``oauth_nonce``, ``oauth_signature_method=HMAC-SHA256`` and
  ``oauth_signature`` in its query string, the signature being the base64 HMAC-SHA256 of the
  signature base string (method, encoded URL, encoded sorted parameters) keyed with the
  consumer secret followed by ``&`` (there is no token). Written here in a few lines rather
  than through ``oauthlib``: WooCommerce wants the parameters in the query, without a token,
  which is not oauthlib's default shape, and the whole scheme is one HMAC.

Errors are JSON ``{"code", "message", "data": {"status"}}``; ``WooApi.request`` turns them
into billingdesk's error families (401 → ``AuthenticationFailed``, 403 → ``PermissionDenied``,
404 → ``NotFound``, 429 → ``RateLimited``, 5xx and timeouts → ``GatewayUnavailable``, other
4xx → ``InvalidRequest`` with WooCommerce's own message) and retries the operational ones
of reads. Money arrives as decimal strings and is converted by currency exponent in
``mapping``, never through floats.

Docs: https://woocommerce.github.io/woocommerce-rest-api-docs/ (authentication, pagination,
errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from billingdesk.core.errors import (
    AuthenticationFailed,
    BillingdeskError,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    OperationalError,
    PermissionDenied,
    RateLimited,
)

API_PATH = "/wp-json/wc/v3"
# (connect, read) seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
USER_AGENT = "billingdesk-woocommerce/1"


def _enc(value: str) -> str:
    """RFC 3986 percent-encoding, as OAuth 1.0a wants it."""
    return quote(value, safe="~-._")


def oauth_signature(method: str, url: str, params: Mapping[str, str], secret: str) -> str:
    """The OAuth 1.0a HMAC-SHA256 signature of a request (``params`` without the signature)."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params.items())
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _enc(url), _enc(normalized)])
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def site_base(site_url: str) -> str:
    """The API base of a site URL, refusing anything but an http(s) URL with a host."""
    url = (site_url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"The site URL must be the shop's address, like https://shop.example, not {url!r}."
        )
    if parts.query or parts.fragment:
        raise InvalidRequest("The site URL must not have a query string or a fragment.")
    return url + API_PATH


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    data: Any
    headers: Mapping[str, str]

    def header_int(self, name: str) -> int | None:
        try:
            return int(self.headers.get(name, ""))
        except ValueError:
            return None


class WooApi:
    """One shop's REST API, with one ``requests`` session."""

    def __init__(
        self,
        credentials: Mapping[str, Any],
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        read_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = site_base(str(credentials.get("site_url") or ""))
        self.key = str(credentials.get("consumer_key") or "").strip()
        self.secret = str(credentials.get("consumer_secret") or "").strip()
        if not self.key:
            raise AuthenticationFailed("The WooCommerce consumer key (ck_…) is missing.")
        if not self.secret:
            raise AuthenticationFailed("The WooCommerce consumer secret (cs_…) is missing.")
        self.https = self.base.startswith("https://")
        self.timeout = timeout
        self.read_retries = read_retries
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.calls = 0  # requests sent, for the benchmark

    # --- one request --------------------------------------------------------------------
    def _signed(self, method: str, url: str, params: dict[str, str]) -> dict[str, str]:
        oauth = {
            "oauth_consumer_key": self.key,
            "oauth_timestamp": str(int(time.time())),
            "oauth_nonce": secrets.token_hex(16),
            "oauth_signature_method": "HMAC-SHA256",
        }
        signed = {**params, **oauth}
        signed["oauth_signature"] = oauth_signature(method, url, signed, self.secret)
        return signed

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retries: int | None = None,
    ) -> Response:
        """Send one request; retry an operational failure of a read (``GET``)."""
        if retries is None:
            retries = self.read_retries if method == "GET" else 0
        attempt = 0
        while True:
            try:
                return self._once(method, path, params or {}, json)
            except OperationalError:
                if attempt >= retries:
                    raise
            attempt += 1
            self.sleep(0.5 * 2 ** (attempt - 1))

    def _once(self, method: str, path: str, params: Mapping[str, Any], body: Any) -> Response:
        url = self.base + path
        query = {k: str(v) for k, v in params.items() if v is not None}
        auth: tuple[str, str] | None = None
        if self.https:
            auth = (self.key, self.secret)
        else:
            query = self._signed(method, url, query)
        self.calls += 1
        try:
            answer = self.session.request(
                method, url, params=query, json=body, auth=auth, timeout=self.timeout
            )
        except requests.Timeout:
            raise GatewayUnavailable(
                "The WooCommerce shop did not answer in time; try again."
            ) from None
        except requests.ConnectionError:
            raise GatewayUnavailable(
                "The WooCommerce shop could not be reached; try again."
            ) from None
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"The WooCommerce request failed: {exc}.") from None
        try:
            data = answer.json() if answer.content else None
        except ValueError:
            data = None
        if answer.status_code >= 400:
            raise error_for(answer.status_code, data, answer.headers)
        if data is None and answer.status_code != 204:
            raise GatewayUnavailable(
                "The WooCommerce shop answered something that is not JSON (is the site URL "
                "right, and are permalinks enabled?)."
            )
        return Response(answer.status_code, data, answer.headers)


def error_for(status: int, data: Any, headers: Mapping[str, str] | None = None) -> BillingdeskError:
    """A WooCommerce error answer as billingdesk's error, with WooCommerce's own words."""
    code = message = ""
    if isinstance(data, dict):
        code = str(data.get("code") or "")
        message = str(data.get("message") or "")
    said = f" ({message})" if message else ""
    if status == 401:
        return AuthenticationFailed(
            "WooCommerce refused the REST API keys (consumer key or secret is wrong, or the key "
            f"was revoked){said}.",
            code="authentication_failed",
        )
    if status == 403:
        return PermissionDenied(
            f"This WooCommerce REST key may not do this (it needs Read/Write permission){said}."
        )
    if status == 404:
        if code == "rest_no_route":
            return NotFound(f"This WooCommerce shop has no such API{said}.", code="no_route")
        return NotFound(f"WooCommerce has no such object{said}.")
    if status == 429:
        retry_after: float | None
        try:
            retry_after = float((headers or {}).get("Retry-After", ""))
        except ValueError:
            retry_after = None
        return RateLimited(
            "The WooCommerce shop is rate-limiting these requests; try again shortly.",
            retry_after=retry_after,
        )
    if status >= 500 and code.startswith("woocommerce_rest_"):
        # WooCommerce answers some refusals (a refund it cannot make) with a 500 and its
        # own code: those are about the request, not an outage.
        error = InvalidRequest(f"WooCommerce refused: {message or code}")
        error.code = code
        return error
    if status >= 500:
        return GatewayUnavailable(f"The WooCommerce shop is having trouble (HTTP {status}){said}.")
    error = InvalidRequest(f"WooCommerce refused the request: {message or code or status}")
    if code:
        error.code = code
    return error
