"""Entry of the Front sidebar plugin: ``GET /embed/front/<connection>/?auth_secret=…``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.front import verification
from billingdesk.helpdesks.interface import Launch
from billingdesk.helpdesks.views import refuse, shell_response


@require_GET
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, status=404)
    if connection.kind != "front":
        return refuse(connection, "this connection is not a Front connection", status=404)
    try:
        verification.verify(request.GET.get("auth_secret"), connection.secret("auth_secret"))
    except SignatureInvalid as exc:
        return refuse(connection, exc.message)
    return shell_response(request, connection, Launch(), mode="front")
