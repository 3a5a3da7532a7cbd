"""Entry of the Zendesk sidebar app: Zendesk POSTs the signed ``token`` to the iframe's URL."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks import embed
from billingdesk.helpdesks.views import refuse, shell_response
from billingdesk.helpdesks.zendesk import verification


@csrf_exempt  # Zendesk cannot send our CSRF token; the signed JWT is the proof
@require_POST
def entry(request: HttpRequest, connection_id: str) -> HttpResponse:
    try:
        connection = embed.connection_get(connection_id)
    except SignatureInvalid as exc:
        return refuse(None, exc.message, status=404)
    if connection.kind != "zendesk":
        return refuse(connection, "this connection is not a Zendesk connection", status=404)
    try:
        launch = verification.verify(
            request.POST.get("token", ""),
            public_key_pem=connection.setting("public_key"),
            subdomain=connection.setting("subdomain"),
            installation_id=connection.setting("installation_id"),
            replay=lambda once, until: embed.proof_use_once(
                connection, kind="zendesk-jwt", value=once, expires_at=until
            ),
        )
    except SignatureInvalid as exc:
        return refuse(connection, exc.message)
    return shell_response(request, connection, launch, mode="zendesk")
