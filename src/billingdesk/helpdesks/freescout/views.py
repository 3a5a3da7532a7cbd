"""Entry of the FreeScout sidebar: the signed iframe URL, for a FreeScout connection."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billingdesk.helpdesks.iframe.views import signed_entry


@require_GET
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    return signed_entry(request, connection_id, kind="freescout")
