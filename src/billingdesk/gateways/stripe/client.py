"""The one place billingdesk talks to Stripe: a per-account client on the official SDK.

Every call goes through ``StripeApi``, which owns one ``stripe.StripeClient`` built with the
account's own secret key (never the SDK's global ``stripe.api_key``, so two accounts in one
process cannot leak into each other), explicit connect/read timeouts, the SDK's own retries
for network failures and 5xx, and our retries with exponential backoff for 429 (the SDK does
not retry those unless Stripe sends ``Stripe-Should-Retry``). Writes always carry an
``Idempotency-Key`` chosen by the caller, so a retry, ours or the SDK's, never acts twice.

Responses leave this module as plain JSON dicts and Stripe's exceptions leave it translated
into billingdesk's error types, so nothing else depends on the SDK's classes.

Stripe documents: errors https://docs.stripe.com/api/errors, error codes
https://docs.stripe.com/error-codes, idempotency https://docs.stripe.com/api/idempotent_requests,
rate limits https://docs.stripe.com/rate-limits.
"""

from __future__ import annotations

import io
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import stripe
from stripe import StripeResponse

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    BillingdeskError,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    NotFound,
    PermissionDenied,
    RateLimited,
)

JSON = dict[str, Any]

# The SDK logs every request and response at INFO through the "stripe" logger; they reach
# the terminal (and the logs) only when something is wrong.
logging.getLogger("stripe").setLevel(logging.WARNING)

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds: Stripe answers most calls in < 1 s
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BASE_DELAY = 0.5
MAX_RETRY_DELAY = 8.0

# Stripe error codes that mean "this object is in a state where that cannot be done".
_NOT_ALLOWED_CODES = frozenset(
    {
        "charge_already_captured",
        "charge_already_refunded",
        "charge_disputed",
        "charge_expired_for_capture",
        "payment_intent_unexpected_state",
        "invoice_not_editable",
        "invoice_no_customer_line_items",
        "invoice_payment_intent_requires_action",
        "resource_already_exists",
        "customer_tax_location_invalid",
    }
)
_TOO_LARGE_CODES = frozenset({"amount_too_large", "refund_amount_exceeds_charge"})


class CountingRequestsClient(stripe.RequestsClient):
    """The SDK's ``requests`` transport, counting the HTTP requests it really sends
    (retries included), so benchmarks and tests can report API calls per object."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self.requests_sent = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.requests_sent += 1
        return super().request(*args, **kwargs)


class StripeApi:
    """Stripe, as seen by one configured account."""

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_base_delay: float = DEFAULT_RETRY_BASE_DELAY,
        stripe_version: str | None = None,
    ) -> None:
        if not secret_key:
            raise AuthenticationFailed("No Stripe secret key is configured for this account.")
        self.max_retries = max_retries
        # Stripe's Request-Id of the last answer, quoted in the audit log of actions.
        self.last_request_id = ""
        self.retry_base_delay = retry_base_delay
        self.http = CountingRequestsClient(timeout=timeout)
        bases: dict[str, str] = {}
        if api_base:
            # A test double or proxy serves files.stripe.com's uploads at the same address.
            bases["api"] = bases["files"] = api_base.rstrip("/")
        self._sdk = stripe.StripeClient(
            secret_key,
            base_addresses=cast(Any, bases),
            http_client=self.http,
            max_network_retries=max_retries,
            stripe_version=stripe_version,
        )

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    # --- plumbing ------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any]) -> JSON:
        """Run one SDK call: retry 429 with backoff, translate errors, return plain JSON."""
        attempt = 0
        while True:
            try:
                result = fn()
            except stripe.RateLimitError as exc:
                if attempt >= self.max_retries:
                    raise translate_error(exc) from exc
                attempt += 1
                time.sleep(self._backoff(attempt))
                continue
            except stripe.StripeError as exc:
                raise translate_error(exc) from exc
            response = (
                result
                if isinstance(result, StripeResponse)
                else getattr(result, "last_response", None)
            )
            self.last_request_id = str(getattr(response, "request_id", "") or "")
            return _to_json(result)

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many workers hitting the same limit from retrying in lockstep.
        delay = min(self.retry_base_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY)
        return float(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not security

    def _service(self, path: str) -> Any:
        """``"customers.tax_ids"`` -> ``client.v1.customers.tax_ids`` (typed loosely on
        purpose: params are plain dicts here, validated by Stripe)."""
        node: Any = self._sdk.v1
        for part in path.split("."):
            node = getattr(node, part)
        return node

    @staticmethod
    def _write_options(idempotency_key: str) -> stripe.RequestOptions:
        if not idempotency_key:
            raise InvalidRequest("every write to Stripe needs an idempotency key")
        return {"idempotency_key": idempotency_key[:255]}

    # --- reads ---------------------------------------------------------------------------
    def balance(self) -> JSON:
        return self._call(lambda: self._sdk.v1.balance.retrieve())

    def list_objects(self, resource: str, params: Mapping[str, Any]) -> JSON:
        """One page of a top-level list (``"charges"`` -> ``GET /v1/charges``).

        Read through the SDK's ``raw_request``: the same requestor (authentication, version,
        retries, error classes) without building a ``StripeObject`` tree that ``_to_json``
        would only turn back into dicts. That tree cost more CPU than the rest of mapping a
        100-charge page.
        """
        if not resource.isidentifier():
            raise InvalidRequest(f"not a Stripe list resource: {resource!r}")
        path = f"/v1/{resource}"
        return self._call(lambda: self._sdk.raw_request("get", path, **dict(params)))

    def retrieve(self, resource: str, object_id: str, *, expand: list[str] | None = None) -> JSON:
        svc = self._service(resource)
        params = {"expand": expand} if expand else None
        return self._call(lambda: svc.retrieve(object_id, params=params))

    def retrieve_nested(self, resource: str, parent_id: str, object_id: str) -> JSON:
        svc = self._service(resource)
        return self._call(lambda: svc.retrieve(parent_id, object_id))

    # --- writes --------------------------------------------------------------------------
    def create(self, resource: str, params: Mapping[str, Any], *, idempotency_key: str) -> JSON:
        svc = self._service(resource)
        options = self._write_options(idempotency_key)
        return self._call(lambda: svc.create(params=dict(params), options=options))

    def create_nested(
        self, resource: str, parent_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> JSON:
        svc = self._service(resource)
        options = self._write_options(idempotency_key)
        return self._call(lambda: svc.create(parent_id, params=dict(params), options=options))

    def update(
        self, resource: str, object_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> JSON:
        svc = self._service(resource)
        options = self._write_options(idempotency_key)
        return self._call(lambda: svc.update(object_id, params=dict(params), options=options))

    def file_upload(
        self, *, data: bytes, filename: str, purpose: str, idempotency_key: str
    ) -> JSON:
        """``POST https://files.stripe.com/v1/files`` (multipart), e.g. dispute evidence."""
        options = self._write_options(idempotency_key)

        def upload() -> Any:
            part = io.BytesIO(data)
            part.name = filename
            return self._sdk.v1.files.create(
                params={"file": part, "purpose": purpose},  # type: ignore[typeddict-item]
                options=options,
            )

        return self._call(upload)

    def act(
        self,
        resource: str,
        method: str,
        object_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str,
    ) -> JSON:
        """An action endpoint: ``act("payment_intents", "capture", "pi_…", {...})`` is
        ``POST /v1/payment_intents/pi_…/capture``. (``DELETE /v1/subscriptions/{id}`` is
        ``cancel`` in the SDK, so it goes through here too.)"""
        fn = getattr(self._service(resource), method)
        options = self._write_options(idempotency_key)
        return self._call(lambda: fn(object_id, params=dict(params or {}), options=options))


def _to_json(result: Any) -> JSON:
    if isinstance(result, stripe.StripeObject):
        return result.to_dict()
    if isinstance(result, dict):
        return result
    if isinstance(result, StripeResponse) and isinstance(result.data, dict):
        return result.data
    raise GatewayUnavailable(f"Stripe returned something that is not an object: {result!r}")


def translate_error(exc: stripe.StripeError) -> BillingdeskError:
    """Stripe's exception -> billingdesk's, with a message a support agent can act on."""
    detail = exc.user_message or str(exc) or type(exc).__name__
    code = exc.code or ""
    if isinstance(exc, stripe.CardError):
        decline = ""
        if exc.error is not None:
            decline = getattr(exc.error, "decline_code", None) or ""
        return CardDeclined(
            f"The card was declined: {detail}", decline_code=decline or code or "generic_decline"
        )
    if isinstance(exc, stripe.PermissionError):
        return PermissionDenied(
            "Stripe does not let this account's key do this (a restricted key without the "
            f"permission for it). Stripe said: {detail}"
        )
    if isinstance(exc, stripe.AuthenticationError):
        return AuthenticationFailed(
            "Stripe refused this account's secret key (it may be expired, revoked or "
            f"mistyped); update it in the gateway settings. Stripe said: {detail}"
        )
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(
            "Stripe is rate-limiting this account; the request was retried and still "
            "refused. Try again in a minute.",
        )
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayUnavailable(
            f"Could not reach Stripe (network failure or timeout); nothing was changed. {detail}"
        )
    if isinstance(exc, stripe.IdempotencyError):
        return InvalidRequest(
            f"This request reused an idempotency key with different parameters: {detail}",
            code="idempotency_conflict",
        )
    if isinstance(exc, stripe.InvalidRequestError):
        if code in _TOO_LARGE_CODES:
            return AmountTooLarge(f"The amount is larger than Stripe allows here: {detail}")
        if code in _NOT_ALLOWED_CODES:
            return NotAllowed(f"Stripe cannot do this to the object in its current state: {detail}")
        if code == "resource_missing" or exc.http_status == 404:
            return NotFound(f"Stripe does not know this object: {detail}")
        return InvalidRequest(f"Stripe rejected the request: {detail}")
    status = exc.http_status or 0
    if status == 404:
        return NotFound(f"Stripe does not know this object: {detail}")
    return GatewayUnavailable(f"Stripe failed to answer properly (HTTP {status}): {detail}")
