"""The v1 API: ``/api/v1/openapi.json`` (OpenAPI 3.1) and ``/api/v1/docs`` (Swagger UI, served
from django-ninja's own static files: no CDN)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.parser import Parser

from billingdesk.api.v1 import actions, errors, push, read
from billingdesk.core.parsing import json_loads


class SafeParser(Parser):
    """JSON bodies nested deeper than ``core.parsing.MAX_JSON_DEPTH`` are refused (422)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_loads(request.body)


api = NinjaAPI(
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
api.add_router("/", push.router)
