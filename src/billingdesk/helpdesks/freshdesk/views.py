"""Freshdesk app requests (through the Freshworks proxy): exchange the app key for a token.

``POST /embed/freshdesk/<connection>/launch/`` with ``X-Billingdesk-Key`` → ``{"token": …}``;
the app then calls the panel API with ``Authorization: Bearer <token>`` and shows the HTML.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.freshdesk import verification
from billingdesk.helpdesks.interface import Launch
from billingdesk.helpdesks.views import refuse


@csrf_exempt  # server-to-server through the Freshworks proxy; the app key is the proof
@require_POST
def launch(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, status=404, as_json=True)
    if connection.kind != "freshdesk":
        return refuse(
            connection, "this connection is not a Freshdesk connection", status=404, as_json=True
        )
    try:
        verification.verify(request.headers.get(verification.HEADER), connection.secret("app_key"))
    except SignatureInvalid as exc:
        return refuse(connection, exc.message, as_json=True)
    token = embed.launch_token_issue(connection, Launch())
    return JsonResponse({"token": token, "expires_in": embed.EMBED_TOKEN_TTL})
