"""The official ``braintree`` SDK, one gateway object per account, and its errors translated.

Every account gets its own ``braintree.BraintreeGateway`` (the SDK's module-level
``braintree.Configuration.configure`` is never used: two accounts in one process must not
share credentials). ``api_base`` in the credentials points the SDK at a Braintree-compatible
server (the test fake) through a custom ``braintree.Environment``; real accounts name
``sandbox`` or ``production``.

The SDK raises exceptions for HTTP-level failures (401, 404, 429, 5xx, timeouts) and returns an
``ErrorResult`` for validation failures (422). ``call`` turns the first into billingdesk's
error families and retries the operational ones of *reads* with backoff; ``refusal`` reads an
``ErrorResult`` into a plain message for the agent. Writes are never retried blindly: Braintree
has no idempotency keys, so the actions look for an earlier try's result instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import braintree
from braintree.exceptions.authentication_error import AuthenticationError
from braintree.exceptions.authorization_error import AuthorizationError
from braintree.exceptions.braintree_error import BraintreeError
from braintree.exceptions.gateway_timeout_error import GatewayTimeoutError
from braintree.exceptions.http.connection_error import ConnectionError as BtConnectionError
from braintree.exceptions.http.timeout_error import TimeoutError as BtTimeoutError
from braintree.exceptions.not_found_error import NotFoundError
from braintree.exceptions.request_timeout_error import RequestTimeoutError
from braintree.exceptions.server_error import ServerError
from braintree.exceptions.service_unavailable_error import ServiceUnavailableError
from braintree.exceptions.too_many_requests_error import TooManyRequestsError
from braintree.exceptions.upgrade_required_error import UpgradeRequiredError

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    NotFound,
    OperationalError,
    PermissionDenied,
    RateLimited,
    UserFacingError,
)

T = TypeVar("T")

ENVIRONMENTS = ("sandbox", "production")
# (connect, read) seconds; the SDK's own default is 60 s for both.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

# Braintree validation codes with a meaning of their own for the agent
# (https://developer.paypal.com/braintree/docs/reference/general/validation-errors/all/python).
REFUND_NOT_SETTLED = "91506"
REFUND_TOO_LARGE = {"91521", "91512"}  # amount too large; already completely refunded
NOT_VOIDABLE = "91504"
NOT_SETTLEABLE = {"91507", "91508"}
SETTLEMENT_TOO_LARGE = "91522"
SUBSCRIPTION_ID_TAKEN = "81902"
SUBSCRIPTION_ALREADY_CANCELED = "81905"
DUPLICATE_DISCOUNT = "92019"


def environment(credentials: Mapping[str, Any]) -> braintree.Environment:
    """The SDK environment of an account: ``api_base`` (a test server) or sandbox/production."""
    base = str(credentials.get("api_base") or "")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequest(f"api_base must be an http(s) URL, not {base!r}")
        port = str(parts.port or (443 if parts.scheme == "https" else 80))
        # The SDK speaks https only on port 443 (``Environment.protocol``).
        return braintree.Environment(
            "custom", parts.hostname, port, "", parts.scheme == "https", None
        )
    name = str(credentials.get("environment") or "").strip().lower()
    if name not in ENVIRONMENTS:
        raise InvalidRequest("The environment must be 'sandbox' or 'production'.")
    return braintree.Environment.All[name]


def make_gateway(
    credentials: Mapping[str, Any], *, timeout: tuple[float, float] = DEFAULT_TIMEOUT
) -> braintree.BraintreeGateway:
    missing = [k for k in ("merchant_id", "public_key", "private_key") if not credentials.get(k)]
    if missing:
        raise AuthenticationFailed(f"The {missing[0].replace('_', ' ')} is missing.")
    config = braintree.Configuration(
        environment(credentials),
        merchant_id=str(credentials["merchant_id"]),
        public_key=str(credentials["public_key"]),
        private_key=str(credentials["private_key"]),
        timeout=timeout,
        wrap_http_exceptions=True,
    )
    return braintree.BraintreeGateway(config)


def translate(exc: BraintreeError) -> Exception:
    """A Braintree SDK exception as billingdesk's error."""
    if isinstance(exc, AuthenticationError):
        return AuthenticationFailed(
            "Braintree refused the API keys (merchant id, public or private key is wrong, or "
            "the keys were revoked)."
        )
    if isinstance(exc, AuthorizationError):
        return PermissionDenied("These Braintree API keys may not do this (role permissions).")
    if isinstance(exc, NotFoundError):
        return NotFound(f"Braintree has no such object ({exc or 'not found'}).")
    if isinstance(exc, TooManyRequestsError):
        return RateLimited("Braintree is rate-limiting this account; try again shortly.")
    if isinstance(exc, BtTimeoutError | RequestTimeoutError | GatewayTimeoutError):
        return GatewayUnavailable("Braintree did not answer in time; try again.")
    if isinstance(exc, BtConnectionError):
        return GatewayUnavailable("Braintree could not be reached; try again.")
    if isinstance(exc, ServerError | ServiceUnavailableError):
        return GatewayUnavailable("Braintree is having trouble (server error); try again.")
    if isinstance(exc, UpgradeRequiredError):
        return OperationalError("Braintree asks for a newer client library.")
    return GatewayUnavailable(f"Braintree answered unexpectedly ({type(exc).__name__}: {exc}).")


def call(
    fn: Callable[..., T],
    *args: Any,
    retries: int = 0,
    base_delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> T:
    """Run one SDK call; retry an operational failure ``retries`` times (reads only)."""
    attempt = 0
    while True:
        try:
            return fn(*args, **kwargs)
        except BraintreeError as exc:
            error = translate(exc)
            if not isinstance(error, OperationalError) or attempt >= retries:
                raise error from exc
        attempt += 1
        sleep(base_delay * 2 ** (attempt - 1))


def codes(result: Any) -> list[str]:
    errors = getattr(result, "errors", None)
    return [str(e.code) for e in (errors.deep_errors if errors is not None else [])]


def refusal(result: Any, what: str) -> UserFacingError:
    """A Braintree ``ErrorResult`` as the error the agent sees."""
    message = str(getattr(result, "message", "") or "no reason given")
    txn = getattr(result, "transaction", None)
    found = codes(result)
    if txn is not None and str(getattr(txn, "status", "")) in (
        "processor_declined",
        "gateway_rejected",
        "failed",
    ):
        code = str(
            getattr(txn, "processor_response_code", "")
            or getattr(txn, "gateway_rejection_reason", "")
            or "declined"
        )
        text = getattr(txn, "processor_response_text", "") or message
        return CardDeclined(f"The payment was declined: {text}.", decline_code=code)
    if REFUND_NOT_SETTLED in found:
        return NotAllowed(
            "Braintree refunds only settled (or settling) transactions: this one has not "
            "settled yet, so void it instead."
        )
    if set(found) & REFUND_TOO_LARGE or SETTLEMENT_TOO_LARGE in found:
        return AmountTooLarge(f"Braintree refused the amount: {message}")
    if NOT_VOIDABLE in found or set(found) & NOT_SETTLEABLE:
        return NotAllowed(f"Braintree cannot {what} this transaction now: {message}")
    return InvalidRequest(f"Braintree refused to {what}: {message}")
