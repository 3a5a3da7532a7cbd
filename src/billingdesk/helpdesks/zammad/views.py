"""Entry of the Zammad sidebar: the signed iframe URL, for a Zammad connection."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billingdesk.helpdesks.iframe.views import signed_entry


@require_GET
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    return signed_entry(request, connection_id, kind="zammad")
