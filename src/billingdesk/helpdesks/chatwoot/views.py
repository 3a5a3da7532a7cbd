"""Entry of the Chatwoot dashboard app: no proof exists, so the page vouches for nothing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.chatwoot import verification
from billingdesk.helpdesks.views import refuse, shell_response


@require_GET
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, status=404)
    if connection.kind != "chatwoot":
        return refuse(connection, "this connection is not a Chatwoot connection", status=404)
    return shell_response(request, connection, verification.verify(), mode="chatwoot")
