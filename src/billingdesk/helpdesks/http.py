"""The HTTP edge shared by every helpdesk API client.

``requests`` (already installed through the Stripe SDK, now pinned) with timeouts on every call;
429 and 5xx answers are retried a bounded number of times, honouring ``Retry-After`` up to a cap,
then turned into our error types. Error messages carry the status and the helpdesk's own short
reason, never a credential or a whole response body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from billingdesk.core.errors import (
    AuthenticationFailed,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    RateLimited,
)

TIMEOUT = (5.0, 20.0)  # connect, read (seconds)
MAX_RETRIES = 2
MAX_RETRY_AFTER = 10.0


def _retry_after(response: requests.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        delay = float(value)
    except ValueError:
        delay = 0.5 * (2**attempt)
    return max(0.0, min(delay, MAX_RETRY_AFTER))


def _reason(response: requests.Response) -> str:
    """A short reason from the helpdesk's error body (its message or error field)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("description", "message", "error", "errors", "title"):
            value = body.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value)
                return text[:300]
    return ""


class HelpdeskHttp:
    """A JSON HTTP session against one helpdesk API base URL."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "billingdesk"})
        self.session.headers.update(headers or {})
        if auth:
            self.session.auth = auth
        self._sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: dict[str, str] | list[tuple[str, str]] | bytes | None = None,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """``files`` (field, (filename, bytes, content type)) send a multipart form with
        ``data`` as its fields; ``data`` as bytes is sent as the raw body (an upload)."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json_body,
                    data=data,
                    params=params,
                    files=files,
                    headers=headers,
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                if attempt < MAX_RETRIES:
                    self._sleep(0.5 * (2**attempt))
                    continue
                raise GatewayUnavailable(
                    f"{self.name} could not be reached ({type(exc).__name__})."
                ) from None
            status = response.status_code
            if status in ok:
                return response
            if (status == 429 or status >= 500) and attempt < MAX_RETRIES:
                self._sleep(_retry_after(response, attempt))
                continue
            reason = _reason(response)
            suffix = f": {reason}" if reason else ""
            if status == 429:
                raise RateLimited(
                    f"{self.name} is rate limiting billingdesk; try again shortly.",
                    retry_after=_retry_after(response, attempt),
                )
            if status >= 500:
                raise GatewayUnavailable(f"{self.name} answered HTTP {status}; try again later.")
            if status in (401, 403):
                raise AuthenticationFailed(
                    f"{self.name} refused billingdesk's credentials (HTTP {status}){suffix}. "
                    "Check the connection's API token."
                )
            if status == 404:
                raise NotFound(f"{self.name} does not know that resource (HTTP 404){suffix}.")
            raise InvalidRequest(f"{self.name} refused the request (HTTP {status}){suffix}.")
        raise GatewayUnavailable(f"{self.name} did not answer.")  # pragma: no cover

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._decode(self.request(method, path, **kwargs))

    def json_page(self, method: str, path: str, **kwargs: Any) -> tuple[Any, str]:
        """The JSON answer and the URL of the next page its ``Link`` header names ('' if none)."""
        response = self.request(method, path, **kwargs)
        return self._decode(response), str(response.links.get("next", {}).get("url") or "")

    def _decode(self, response: requests.Response) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise GatewayUnavailable(
                f"{self.name} answered with something that is not JSON."
            ) from None


def pick(data: Any, *path: str | int, name: str, what: str) -> str:
    """A value deep in a helpdesk's JSON answer, as text; ``GatewayUnavailable`` if absent."""
    node = data
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
            break
    if node in (None, ""):
        raise GatewayUnavailable(f"{name} answered without {what}.")
    return str(node)


def form_fields(value: Any, prefix: str = "", *, indexed: bool = False) -> list[tuple[str, str]]:
    """A JSON-like body as multipart form fields in the bracket notation the helpdesks read
    (``sender[handle]``; list items as ``tags[]``, or ``to[0]`` when ``indexed``)."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}[{key}]" if prefix else str(key)
            out += form_fields(item, name, indexed=indexed)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            nested = indexed or isinstance(item, dict | list | tuple)
            name = f"{prefix}[{index}]" if nested else f"{prefix}[]"
            out += form_fields(item, name, indexed=indexed)
    elif value is not None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out.append((prefix, text))
    return out


def require(value: str, what: str) -> str:
    """A connection setting a client cannot work without."""
    if not value:
        raise InvalidRequest(f"The helpdesk connection has no {what}; set it first.")
    return value


def resource_id(response: requests.Response, name: str) -> str:
    """The id of what a ``201 Created`` made, from ``Resource-ID`` or the ``Location`` header
    (Help Scout's convention, FreeScout's too)."""
    rid = response.headers.get("Resource-ID", "").strip()
    if not rid:
        rid = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    if not rid:
        raise GatewayUnavailable(f"{name} answered without the new resource's id.")
    return rid


def iso_from_unix(value: Any) -> str:
    """A helpdesk's Unix timestamp (seconds, maybe fractional) as ISO 8601 UTC; '' if none."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return ""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")
