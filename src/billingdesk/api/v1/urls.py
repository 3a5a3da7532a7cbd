"""The v1 API: ``/api/v1/openapi.json`` (OpenAPI 3.1) and ``/api/v1/docs`` (Swagger UI, served
from django-ninja's own static files: no CDN)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.parser import Parser

from billingdesk.api.v1 import actions, approvals, errors, push, read, reports, webhooks
from billingdesk.core.parsing import json_loads


class SafeParser(Parser):
    """JSON bodies nested deeper than ``core.parsing.MAX_JSON_DEPTH`` are refused (422)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_loads(request.body)


class ConditionalApi(NinjaAPI):
    """Every successful read carries an ``ETag`` (a digest of its body); a ``GET`` sending it
    back in ``If-None-Match`` is answered ``304 Not Modified`` with no body."""

    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        set_response_etag(response)
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Authorization"])
        return (
            get_conditional_response(request, etag=response["ETag"], response=response) or response
        )


api = ConditionalApi(
    title="billingdesk API",
    version="1",
    description=(
        "Authenticate with `Authorization: Bearer bdk_…` (an API key; `billingdesk apikey "
        "create`). Errors are `{code, message, errors: [{field, message}]}`. Money is integer "
        "minor units beside an ISO 4217 currency. Lists are newest first with `cursor` and "
        "`limit`."
    ),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=SafeParser(),
)
errors.install(api)
api.add_router("/", read.router)
api.add_router("/", actions.router)
api.add_router("/", approvals.router)
api.add_router("/", push.router)
api.add_router("/", reports.router)
api.add_router("/", webhooks.router)
