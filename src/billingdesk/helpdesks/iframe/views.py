"""Entry of the generic signed iframe URL: ``GET /embed/iframe/<connection>/?email=…&sig=…``.

``signed_entry`` is shared by every helpdesk whose sidebar is this signed URL (Zammad,
FreeScout): the same proof, checked against the connection of that kind.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.iframe import verification
from billingdesk.helpdesks.views import refuse, shell_response


def signed_entry(request: HttpRequest, connection_id: str, *, kind: str) -> HttpResponse:
    """The panel for a signed iframe URL of a connection of ``kind``."""
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, status=404)
    if connection.kind != kind:
        return refuse(connection, f"this connection is not a {kind} connection", status=404)
    pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    try:
        launch = verification.verify(pairs, connection.secret("signing_secret"))
    except SignatureInvalid as exc:
        return refuse(connection, exc.message)
    return shell_response(request, connection, launch, mode="signed")


@require_GET
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    return signed_entry(request, connection_id, kind="iframe")
