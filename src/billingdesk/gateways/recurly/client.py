"""The official ``recurly`` client (v4, API v2021-02-25), one per account, errors translated.

Every account gets its own ``recurly.Client`` (API key and region US/EU; the client picks the
host ``v3.recurly.com`` or ``v3.eu.recurly.com``). The client keeps one HTTP connection and
offers no base-URL option: ``api_base`` in the credentials (the test fake) replaces that
connection with one to the given host, the only change made to the client.

The connection also keeps each answer's raw body, and billingdesk reads the objects from that
body parsed with ``parse_float=Decimal``: the client's own objects carry amounts as floats
(``json.loads``), which billingdesk never uses. ``call`` turns the client's exceptions into
billingdesk's error families and retries the operational failures of reads with backoff;
writes carry an ``Idempotency-Key`` header instead, so the caller's retry is answered with the
first answer, never acted on twice.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import recurly
from recurly import errors as rerrors
from recurly.pager import Pager

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    BillingdeskError,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    MalformedPayload,
    NotAllowed,
    NotFound,
    OperationalError,
    PermissionDenied,
    RateLimited,
)

REGIONS = ("us", "eu")
DEFAULT_TIMEOUT = 30.0  # seconds, connect and each read
MAX_LIMIT = 200  # Recurly's largest page


class _Replayed:
    """An answer already read, handed to the client as if it were the live response."""

    def __init__(self, response: http.client.HTTPResponse, body: bytes) -> None:
        self.status = response.status
        self.headers = response.headers
        self._body = body

    def read(self) -> bytes:
        return self._body


class _Recording:
    last_body: bytes = b""

    def close(self) -> None:
        super().close()  # type: ignore[misc]

    def getresponse(self) -> Any:
        response = super().getresponse()  # type: ignore[misc]
        body = response.read()
        self.last_body = body
        return _Replayed(response, body)


class _HTTP(_Recording, http.client.HTTPConnection):
    pass


class _HTTPS(_Recording, http.client.HTTPSConnection):
    pass


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body, parse_float=Decimal) if body else {}
    except ValueError:
        raise MalformedPayload("Recurly answered with a body that is not JSON.") from None


class RecurlyApi:
    """One account's client, its recording connection, and the calls billingdesk makes."""

    def __init__(self, credentials: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT):
        api_key = str(credentials.get("api_key") or "").strip()
        if not api_key:
            raise AuthenticationFailed("The Recurly API key is missing.")
        region = str(credentials.get("region") or "us").strip().lower()
        if region not in REGIONS:
            raise InvalidRequest("The Recurly region must be 'us' or 'eu'.")
        self.region = region
        self.client = recurly.Client(api_key, timeout=timeout, region=region)
        base = str(credentials.get("api_base") or "")
        self.conn: _Recording
        if base:
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidRequest(f"api_base must be an http(s) URL, not {base!r}")
            cls = _HTTPS if parts.scheme == "https" else _HTTP
            self.conn = cls(parts.hostname, parts.port, timeout=timeout)
        else:
            host = recurly.base_client.API_HOSTS[region]
            self.conn = _HTTPS(host, recurly.base_client.PORT, timeout=timeout)
        # The client's private connection (name-mangled ``__conn``): it has no other hook.
        self.client._BaseClient__conn = self.conn  # type: ignore[attr-defined]

    # --- calls ------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        *args: Any,
        retries: int = 0,
        idempotency_key: str | None = None,
        base_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> Any:
        """One client method; the answer's JSON (Decimals for amounts)."""
        if idempotency_key:
            options["headers"] = {"Idempotency-Key": idempotency_key[:255]}
        return self._run(
            lambda: getattr(self.client, method)(*args, **options), retries, base_delay, sleep
        )

    def page(
        self, method: str, *args: Any, params: Mapping[str, Any], retries: int = 0
    ) -> dict[str, Any]:
        """One page of a listing (one request): ``{"data", "has_more", "next"}``."""
        limit = int(params.get("limit", MAX_LIMIT))
        pager = getattr(self.client, method)(*args, params=dict(params))
        answer = self._run(lambda: pager.take(limit), retries, 0.5, time.sleep)
        if not isinstance(answer, dict) or answer.get("object") != "list":
            raise MalformedPayload("Recurly answered a listing with something else.")
        return answer

    def follow(self, path: str, *, retries: int = 0) -> dict[str, Any]:
        """The page a listing's ``next`` path names."""
        if not path.startswith("/"):
            raise InvalidRequest(f"not a Recurly listing path: {path!r}")
        pages = Pager(self.client, path).pages()
        answer = self._run(lambda: next(pages), retries, 0.5, time.sleep)
        if not isinstance(answer, dict) or answer.get("object") != "list":
            raise MalformedPayload("Recurly answered a listing with something else.")
        return answer

    def count(self, method: str, *args: Any, params: Mapping[str, Any]) -> int | None:
        """The size of a listing (a HEAD request, ``Recurly-Total-Records``)."""
        pager = getattr(self.client, method)(*args, params=dict(params))
        try:
            total = pager.count()
        except (recurly.ApiError, recurly.NetworkError) as exc:
            self._reset(exc)
            raise translate(exc) from exc
        return int(total) if total is not None else None

    def _run(
        self, fn: Callable[[], Any], retries: int, base_delay: float, sleep: Callable[[float], None]
    ) -> Any:
        attempt = 0
        while True:
            try:
                fn()
                return _loads(self.conn.last_body)
            except (recurly.ApiError, recurly.NetworkError) as exc:
                self._reset(exc)
                error = translate(exc, self.conn.last_body)
                if not isinstance(error, OperationalError) or attempt >= retries:
                    raise error from exc
            except http.client.HTTPException as exc:
                # A connection left half-used (a timeout mid-answer): start a new one.
                self.conn.close()
                if attempt >= retries:
                    raise GatewayUnavailable(f"Recurly's connection broke ({exc!r}).") from exc
            attempt += 1
            sleep(base_delay * 2 ** (attempt - 1))

    def _reset(self, exc: Exception) -> None:
        if isinstance(exc, recurly.NetworkError):
            self.conn.close()
            self.conn.last_body = b""


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal) if body else {}
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def translate(exc: Exception, body: bytes = b"") -> BillingdeskError:
    """A ``recurly`` client exception as billingdesk's error, in words for the agent."""
    if isinstance(exc, recurly.NetworkError):
        return GatewayUnavailable("Recurly could not be reached or did not answer in time.")
    error = _error_body(body)
    message = str(error.get("message") or "") or str(exc).split(". Recurly Request Id")[0]
    params = [p for p in error.get("params") or [] if isinstance(p, dict)]
    if isinstance(exc, rerrors.UnauthorizedError | rerrors.InvalidApiKeyError):
        return AuthenticationFailed(
            "Recurly refused the API key (wrong key, wrong region, or the key was revoked)."
        )
    if isinstance(exc, rerrors.ForbiddenError):
        return PermissionDenied("This Recurly API key may not do this (its permissions).")
    if isinstance(exc, rerrors.NotFoundError):
        return NotFound(f"Recurly has no such object ({message or 'not found'}).")
    if isinstance(exc, rerrors.TooManyRequestsError):
        return RateLimited("Recurly is rate-limiting this site; try again shortly.")
    if isinstance(exc, rerrors.ServerError):
        return GatewayUnavailable("Recurly is having trouble (server error); try again.")
    if isinstance(exc, rerrors.TransactionError):
        detail = error.get("transaction_error") or {}
        code = str(detail.get("decline_code") or detail.get("code") or "declined")
        text = str(detail.get("merchant_advice") or detail.get("message") or message)
        return CardDeclined(f"The payment was declined: {text}", decline_code=code)
    if isinstance(exc, rerrors.ImmutableSubscriptionError):
        return NotAllowed(f"Recurly cannot change this subscription now: {message}")
    if isinstance(exc, rerrors.NotAcceptableError):
        return OperationalError(f"Recurly refused the API version: {message}")
    if isinstance(exc, rerrors.ValidationError | rerrors.UnprocessableEntityError):
        if any(p.get("param") == "amount" and "exceed" in str(p.get("message")) for p in params):
            return AmountTooLarge(f"Recurly refused the amount: {message}.")
        return InvalidRequest(f"Recurly refused the request: {message}.")
    if isinstance(exc, rerrors.ClientError):
        return InvalidRequest(f"Recurly refused the request: {message}.")
    return GatewayUnavailable(f"Recurly answered unexpectedly ({type(exc).__name__}: {message}).")
