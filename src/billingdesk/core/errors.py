"""Error types shared by every layer.

Two families, because callers treat them differently:

* ``UserFacingError``: the request cannot be done as asked (a decline, an over-refund, an
  action the gateway does not support, bad input). Shown to the person in plain words; never
  retried.
* ``OperationalError``: something outside us failed (network, rate limit, gateway outage).
  Retried with backoff by background work; shown as "try again" to a person.
"""

from __future__ import annotations


class BillingdeskError(Exception):
    """Base of every error billingdesk raises on purpose.

    ``refreshed`` holds gateway objects (interface dataclasses) a connector read while
    refusing — the live state that made it refuse — so the caller can bring the mirror up
    to date. Connectors never write the mirror themselves: they sit below it.
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.refreshed: list[object] = []
        if code:
            self.code = code


class UserFacingError(BillingdeskError):
    code = "invalid_request"


class InvalidRequest(UserFacingError):
    code = "invalid_request"


class NotFound(UserFacingError):
    code = "not_found"


class NotAllowed(UserFacingError):
    """The gateway (or our rules) cannot do this to this object."""

    code = "not_allowed"


class CapabilityMissing(NotAllowed):
    code = "capability_missing"


class CardDeclined(UserFacingError):
    code = "card_declined"

    def __init__(self, message: str, *, decline_code: str = "generic_decline") -> None:
        super().__init__(message)
        self.decline_code = decline_code


class AmountTooLarge(UserFacingError):
    code = "amount_too_large"


class AuthenticationFailed(UserFacingError):
    """Credentials were refused by the gateway: someone must fix the configuration."""

    code = "authentication_failed"


class PermissionDenied(AuthenticationFailed):
    """The credentials are valid but may not do this (e.g. a restricted key without read
    access to one kind of object): the rest still works."""

    code = "permission_denied"


class OperationalError(BillingdeskError):
    code = "operational_error"
    retryable = True


class GatewayUnavailable(OperationalError):
    code = "gateway_unavailable"


class RateLimited(OperationalError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignatureInvalid(BillingdeskError):
    """A webhook or embed proof did not verify."""

    code = "signature_invalid"


class MalformedPayload(BillingdeskError):
    code = "malformed_payload"
