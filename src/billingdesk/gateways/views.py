"""The webhook URL of each gateway account."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.webhooks import webhook_receive


@csrf_exempt  # authenticated by the gateway's signature, not by a session
@require_POST
def webhook_intake(request: HttpRequest, account_id: UUID) -> JsonResponse:
    account = GatewayAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return JsonResponse({"error": "unknown webhook endpoint"}, status=404)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    result = webhook_receive(account=account, headers=dict(request.headers), body=request.body)
    payload: dict[str, object] = {"received": result.status_code < 400, "detail": result.message}
    if result.status_code >= 400:
        payload = {"error": result.message}
    return JsonResponse(payload, status=result.status_code)
