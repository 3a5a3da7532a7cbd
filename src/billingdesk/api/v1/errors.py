"""One error shape for every refusal: ``{"code", "message", "errors": [{"field", "message"}]}``.

Every handler here answers a 4xx (or 503 for a database that failed) with that body; the
OpenAPI schema declares it on every operation (``ERRORS``).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from billingdesk.api.keys import KeyRefused
from billingdesk.core.errors import (
    InvalidRequest,
    NotAllowed,
    NotFound,
    OperationalError,
    RateLimited,
    UserFacingError,
)


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] = []


# What every operation may answer besides its success, for the schema.
ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
    429: ErrorOut, 503: ErrorOut,
}  # fmt: skip


def error(
    status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "errors": errors or []}, status=status)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(KeyRefused)
    def _refused(request: HttpRequest, exc: KeyRefused) -> HttpResponse:
        response = error(exc.status, exc.code, exc.message)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="billingdesk"'
        return response

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error(
            401, "authentication_required", "Send an API key: Authorization: Bearer bdk_…"
        )
        response["WWW-Authenticate"] = 'Bearer realm="billingdesk"'
        return response

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in item.get("loc", ()) if p not in ("body",)),
                "message": str(item.get("msg", "invalid")),
            }
            for item in exc.errors
        ]
        return error(422, "validation_error", "The request is not valid.", fields)

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error(exc.status_code, "http_error", str(exc))

    @api.exception_handler(UserFacingError)
    def _user(request: HttpRequest, exc: UserFacingError) -> HttpResponse:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, NotAllowed) else 400
        if isinstance(exc, InvalidRequest):
            status = 400
        return error(status, exc.code, exc.message)

    @api.exception_handler(OperationalError)
    def _operational(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        response = error(503, exc.code, exc.message)
        wait = exc.retry_after if isinstance(exc, RateLimited) else None
        response["Retry-After"] = str(int(wait or 30))
        return response

    @api.exception_handler(DatabaseError)
    def _database(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        response = error(503, "database_unavailable", "The database did not answer; try again.")
        response["Retry-After"] = "30"
        return response
