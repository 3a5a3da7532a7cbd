"""The one place the reference connector talks to its vendor (``service``).

A real connector's ``client.py`` wraps the vendor SDK or HTTP API; this one calls the
in-memory service the same way and translates its answers into billingdesk's error
taxonomy (``billingdesk.core.errors``), as every client must:

* refused credentials (401/403) -> ``AuthenticationFailed``;
* a decline (402) -> ``CardDeclined``; an amount over what remains -> ``AmountTooLarge``;
  an unknown object -> ``NotFound``; an object in the wrong state -> ``NotAllowed``;
  any other refusal -> ``InvalidRequest`` (all ``UserFacingError``: shown, never retried);
* a timeout, a 5xx -> ``GatewayUnavailable``; a 429 -> ``RateLimited`` (``OperationalError``:
  retried with backoff).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    BillingdeskError,
    CardDeclined,
    GatewayUnavailable,
    InvalidRequest,
    NotAllowed,
    NotFound,
    RateLimited,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.reference import service

T = TypeVar("T")


class ReferenceClient:
    """The reference service, as seen by one configured account."""

    def __init__(self, *, account_id: str, api_key: str) -> None:
        self.account_id = account_id
        self.api_key = api_key

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            service.request(self.account_id, self.api_key)
            return fn()
        except service.ServiceError as exc:
            raise translate_error(exc) from exc
        except TimeoutError as exc:
            raise GatewayUnavailable(
                "The reference gateway did not answer in time; nothing was changed."
            ) from exc

    def ping(self) -> None:
        self._call(lambda: None)

    def list_objects(
        self, kind: gw.ObjectKind, *, offset: int, limit: int
    ) -> tuple[list[gw.GatewayObject], bool]:
        return self._call(
            lambda: service.list_objects(self.account_id, kind, offset=offset, limit=limit)
        )

    def count(self, kind: gw.ObjectKind) -> int:
        return len(service.objects(self.account_id, kind))

    def write(
        self, operation: str, idempotency_key: str, params: dict[str, Any]
    ) -> list[gw.GatewayObject]:
        """Run one write (``service.<operation>(**params)``) under an idempotency key."""
        act = getattr(service, operation)
        return self._call(
            lambda: service.idempotent(
                self.account_id,
                idempotency_key,
                operation,
                params,
                lambda: act(self.account_id, **params),
            )
        )


def translate_error(exc: service.ServiceError) -> BillingdeskError:
    if exc.status in (401, 403):
        return AuthenticationFailed(
            "The reference gateway refused this account's API key; update it in the gateway "
            "settings."
        )
    if exc.status == 402:
        return CardDeclined(f"The card was declined: {exc.message}", decline_code=exc.code)
    if exc.status == 429:
        return RateLimited("The reference gateway is rate-limiting; try again.", retry_after=1.0)
    if exc.status >= 500:
        return GatewayUnavailable(f"The reference gateway failed (HTTP {exc.status}); try again.")
    if exc.code == "amount_too_large":
        return AmountTooLarge(exc.message)
    if exc.status == 404:
        return NotFound(exc.message)
    if exc.code.startswith("charge_not_"):
        return NotAllowed(exc.message)
    return InvalidRequest(exc.message, code=exc.code)
