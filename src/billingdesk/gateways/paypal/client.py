"""The one place billingdesk talks to PayPal's REST API: ``requests``, per account.

The official ``paypal-server-sdk`` covers orders, payments and subscriptions but not
Transaction Search's windows as we page them, Customer Disputes, webhook look-ups or the
signature postback (shared/reference/gateways.md §4), so every call goes through ``PayPalApi``
here, with one discipline for all of them:

* OAuth2 client credentials: ``POST /v1/oauth2/token`` with Basic ``client_id:secret``; the
  access token is cached per account (and client id and secret, so a rotated secret never
  reuses the old token) until a minute before it expires, and fetched again on a 401
  ``invalid_token`` (once per call).
* Every write carries ``PayPal-Request-Id`` (the caller's idempotency key): PayPal answers a
  repeated id with the first answer, so a retried write never acts twice. Reads and keyed
  writes are retried with exponential backoff on operational errors only (timeouts,
  connection errors, 429, 5xx); a 4xx is never retried.
* PayPal's error bodies (``name``, ``message``, ``debug_id``, ``details[].issue``) leave this
  module as billingdesk's errors, each with a plain message of its own: declines,
  over-refunds, refused or expired credentials, 429 and 5xx differ.

PayPal documents: https://developer.paypal.com/api/rest/authentication/ ,
https://developer.paypal.com/api/rest/reference/idempotency/ ,
https://developer.paypal.com/api/rest/responses/ .
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    BillingdeskError,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OperationalError,
    PermissionDenied,
    RateLimited,
)

JSON = dict[str, Any]

HOSTS = {
    "sandbox": "https://api-m.sandbox.paypal.com",
    "live": "https://api-m.paypal.com",
}
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BASE_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
TOKEN_MARGIN = 60  # seconds: a token this close to its expiry is renewed first

# ``details[].issue`` values with a meaning of their own for the agent
# (https://developer.paypal.com/api/rest/reference/orders/v2/errors/ and payments/v2).
DECLINE_ISSUES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "TRANSACTION_REFUSED",
        "PAYER_CANNOT_PAY",
        "CARD_EXPIRED",
        "PAYER_ACTION_REQUIRED",
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
    }
)
TOO_LARGE_ISSUES = frozenset(
    {
        "REFUND_AMOUNT_EXCEEDED",
        "CAPTURE_FULLY_REFUNDED",
        "MAX_CAPTURE_AMOUNT_EXCEEDED",
        "REFUND_EXCEEDED_TRANSACTION_AMOUNT",
    }
)
NOT_ALLOWED_ISSUES = frozenset(
    {
        "PREVIOUSLY_CAPTURED",
        "PREVIOUSLY_VOIDED",
        "AUTHORIZATION_VOIDED",
        "AUTHORIZATION_EXPIRED",
        "AUTHORIZATION_ALREADY_CAPTURED",
        "CAPTURE_STATUS_NOT_VALID",
        "SUBSCRIPTION_STATUS_INVALID",
        "REFUND_NOT_ALLOWED",
        "REFUND_TIME_LIMIT_EXCEEDED",
        "TRANSACTION_DISPUTED",
        "PERMISSION_NOT_GRANTED",
    }
)
_PLAIN = {
    "REFUND_AMOUNT_EXCEEDED": "the amount is more than what is left to refund on this payment",
    "CAPTURE_FULLY_REFUNDED": "this payment has already been refunded in full",
    "MAX_CAPTURE_AMOUNT_EXCEEDED": "the amount is more than what is left of the authorisation",
    "PREVIOUSLY_CAPTURED": "the authorisation has already been captured (refund it instead)",
    "PREVIOUSLY_VOIDED": "the authorisation has already been voided",
    "AUTHORIZATION_VOIDED": "the authorisation was voided, so nothing is left to capture",
    "AUTHORIZATION_EXPIRED": "the authorisation has expired",
    "CAPTURE_STATUS_NOT_VALID": "the payment is not completed yet (still pending at PayPal)",
    "SUBSCRIPTION_STATUS_INVALID": "the subscription is not in a state that allows this",
    "REFUND_TIME_LIMIT_EXCEEDED": "the payment is too old to be refunded through PayPal",
    "TRANSACTION_DISPUTED": "the payment is under dispute",
}

_TOKENS: dict[tuple[str, ...], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def base_url(credentials: Mapping[str, Any]) -> str:
    """``api_base`` (a test server) or the host of the account's environment."""
    base = str(credentials.get("api_base") or "").rstrip("/")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequest(f"api_base must be an http(s) URL, not {base!r}")
        return base
    name = str(credentials.get("environment") or "").strip().lower()
    if name not in HOSTS:
        raise InvalidRequest("The environment must be 'sandbox' or 'live'.")
    return HOSTS[name]


def forget_tokens() -> None:
    """Drop every cached access token (tests)."""
    with _TOKENS_LOCK:
        _TOKENS.clear()


def issues(body: Any) -> list[str]:
    details = body.get("details") if isinstance(body, dict) else None
    return [str(d.get("issue") or "") for d in details or [] if isinstance(d, dict)]


def translate(status: int, body: Any, what: str) -> BillingdeskError:
    """A PayPal error answer as billingdesk's error, in words the agent can act on."""
    data = body if isinstance(body, dict) else {}
    name = str(data.get("name") or data.get("error") or "")
    debug = str(data.get("debug_id") or "")
    ref = f" (PayPal debug id {debug})" if debug else ""
    found = issues(data)
    if status == 401:
        return AuthenticationFailed(
            "PayPal refused the client id and secret: they are wrong, or the app's secret "
            "was rotated. Enter the current ones."
        )
    if status == 403:
        return PermissionDenied(
            f"This PayPal app may not {what} (its permissions or the account's features "
            f"do not allow it){ref}."
        )
    if status == 404:
        return NotFound(f"PayPal has no such object ({what}){ref}.")
    if status == 429:
        return RateLimited("PayPal is rate-limiting this account; try again in a minute.")
    if status >= 500:
        return GatewayUnavailable(
            f"PayPal is having trouble (HTTP {status}{', ' + name if name else ''}); "
            f"try again{ref}."
        )
    issue = next((i for i in found if i), "")
    plain = (
        _PLAIN.get(issue)
        or str((data.get("details") or [{}])[0].get("description") if found else "")
        or str(data.get("message") or "no reason given")
    )
    if issue in DECLINE_ISSUES:
        return CardDeclined(
            f"PayPal declined the payment: {plain.rstrip('.')}.", decline_code=issue.lower()
        )
    if issue in TOO_LARGE_ISSUES:
        return AmountTooLarge(f"PayPal refused to {what}: {plain}.")
    if issue in NOT_ALLOWED_ISSUES:
        return NotAllowed(f"PayPal cannot {what}: {plain}.")
    return InvalidRequest(f"PayPal refused to {what}: {plain}{ref}.")


class PayPalApi:
    """One account's PayPal REST client (token, retries, idempotency, errors)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base: str,
        cache_key: str = "",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not client_id or not client_secret:
            raise AuthenticationFailed("The PayPal client id and secret are both needed.")
        self.client_id, self.client_secret, self.base = client_id, client_secret, base
        secret_digest = hashlib.sha256(client_secret.encode()).hexdigest()[:16]
        self._cache = (cache_key, base, client_id, secret_digest)
        self.timeout, self.max_retries, self.retry_base_delay = (
            timeout,
            max_retries,
            retry_base_delay,
        )
        self.sleep = sleep
        self.session = requests.Session()
        self.requests_sent = 0

    # --- token ------------------------------------------------------------------------------
    def token(self, *, fresh: bool = False) -> str:
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache)
        if cached is not None and not fresh and cached[1] - TOKEN_MARGIN > time.time():
            return cached[0]
        answer = self._send(
            "POST",
            "/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret),
            what="sign in",
        )
        token = str(answer.get("access_token") or "")
        if not token:
            raise GatewayUnavailable("PayPal answered the sign-in without an access token.")
        expires = time.time() + float(answer.get("expires_in") or 0)
        with _TOKENS_LOCK:
            _TOKENS[self._cache] = (token, expires)
        return token

    def _forget(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache, None)

    # --- calls ------------------------------------------------------------------------------
    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, what: str = "read"
    ) -> JSON:
        return self.call("GET", path, params=params, what=what)

    def post(
        self,
        path: str,
        body: JSON | None,
        *,
        request_id: str,
        what: str,
        representation: bool = True,
    ) -> JSON:
        return self.call(
            "POST", path, json=body, request_id=request_id, what=what, representation=representation
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: JSON | None = None,
        request_id: str = "",
        what: str = "do this",
        representation: bool = True,
    ) -> JSON:
        """A call with the account's token; retried (backoff) on operational errors when it
        is safe to: a read, or a write with its ``PayPal-Request-Id``."""
        retryable = method == "GET" or bool(request_id)
        attempt = 0
        while True:
            try:
                return self._authorised(
                    method, path, params, json, request_id, what, representation
                )
            except OperationalError as exc:
                if not retryable or attempt >= self.max_retries:
                    raise
                delay = getattr(exc, "retry_after", None) or self.retry_base_delay * 2**attempt
                self.sleep(min(MAX_RETRY_DELAY, delay * (0.5 + random.random() / 2)))  # noqa: S311
                attempt += 1

    def _authorised(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: JSON | None,
        request_id: str,
        what: str,
        representation: bool,
    ) -> JSON:
        headers = {"Content-Type": "application/json"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        if representation and method == "POST":
            headers["Prefer"] = "return=representation"
        for renewed in (False, True):
            headers["Authorization"] = f"Bearer {self.token(fresh=renewed)}"
            try:
                return self._send(
                    method, path, params=params, json=json, headers=headers, what=what
                )
            except PermissionDenied:
                raise  # a 403: the token is fine, the app may not do this
            except AuthenticationFailed as exc:
                if renewed:
                    raise AuthenticationFailed(
                        "PayPal no longer accepts this account's access (the token expired "
                        "and PayPal refused to renew it with these credentials): check the "
                        "client id and secret."
                    ) from exc
                self._forget()
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: JSON | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> JSON:
        url = path if path.startswith("http") else f"{self.base}{path}"
        self.requests_sent += 1
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                auth=auth,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise GatewayUnavailable("PayPal did not answer in time; try again.") from None
        except requests.RequestException:
            raise GatewayUnavailable("PayPal could not be reached; try again.") from None
        if (response.status_code == 204 or not response.content) and response.status_code < 400:
            return {}
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = translate(response.status_code, body, what)
            if isinstance(error, RateLimited):
                retry_after = response.headers.get("Retry-After", "")
                error.retry_after = float(retry_after) if retry_after.isdigit() else None
            raise error
        if not isinstance(body, dict):
            raise GatewayUnavailable(f"PayPal answered {what} with something that is not JSON.")
        return body
