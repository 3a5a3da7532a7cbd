"""The webhook URL of each gateway account: a Django view, and the same answer without Django's
middleware for the WSGI server (see ``config/wsgi.py``).

Gateways POST thousands of events an hour to this one URL, and none of the session,
authentication, CSRF or message middleware has anything to do for them: the signature is
the authentication. ``WebhookIntakeApp`` answers exactly ``POST /webhooks/<uuid>/`` from the
same ``webhook_answer`` the view uses, with Django's request object (so headers, body and
host checks are Django's own) and the same response; every other request goes through the
full Django stack.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from billingdesk.core.errors import InvalidRequest
from billingdesk.core.middleware import FrameAncestorsMiddleware
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.webhooks import webhook_endpoint_get, webhook_receive

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)


@csrf_exempt  # authenticated by the gateway's signature, not by a session
@require_http_methods(["GET", "POST"])
def webhook_intake(request: HttpRequest, account_id: UUID) -> HttpResponse:
    if request.method == "GET":
        return webhook_challenge(request, account_id)
    return webhook_answer(request, account_id)


def webhook_challenge(request: HttpRequest, account_id: UUID) -> HttpResponse:
    """A gateway checking the endpoint before it sends events (Braintree's ``bt_challenge``):
    the connector's answer as plain text; 405 for gateways without such a check."""
    account = webhook_endpoint_get(account_id)
    if account is None:
        return JsonResponse({"error": "unknown webhook endpoint"}, status=404)
    try:
        answer = connector_for(account).answer_challenge(request.GET)
    except InvalidRequest as exc:
        return JsonResponse({"error": exc.message}, status=400)
    if answer is None:
        return JsonResponse({"error": "webhooks are delivered with POST"}, status=405)
    return HttpResponse(answer, content_type="text/plain; charset=utf-8")


def webhook_answer(request: HttpRequest, account_id: UUID) -> JsonResponse:
    """Check the endpoint and the body's size, then store the delivery; the JSON answer."""
    account = webhook_endpoint_get(account_id)
    if account is None:
        return JsonResponse({"error": "unknown webhook endpoint"}, status=404)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    result = webhook_receive(
        account=account,
        headers=dict(request.headers),
        body=request.body,
        # The address that connected (a proxy's, behind one): only rejected deliveries are
        # counted per address, so a gateway's signed deliveries are never limited by it.
        source_ip=request.META.get("REMOTE_ADDR"),
    )
    payload: dict[str, object] = {"received": result.status_code < 400, "detail": result.message}
    if result.status_code >= 400:
        payload = {"error": result.message}
    response = JsonResponse(payload, status=result.status_code)
    if result.status_code == 429:
        response["Retry-After"] = "60"
    return response


# The path of ``webhook_intake`` in config/urls.py, with Django's <uuid:> converter pattern.
_WEBHOOK_PATH = re.compile(
    r"/webhooks/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/\Z"
)


class WebhookIntakeApp:
    """WSGI: ``POST /webhooks/<uuid>/`` answered by ``webhook_answer`` directly, the rest by
    ``django_app``.

    Like Django's handler it sends request_started/request_finished (database connections
    are checked and recycled there) and validates the Host header against ALLOWED_HOSTS.
    An unexpected error is logged and answered 500 with a JSON reason.
    """

    def __init__(self, django_app: WSGIApplication) -> None:
        self.django_app = django_app
        # The response-header middleware of the full stack (security headers as configured,
        # e.g. HSTS and the SSL redirect; framing denied), around the intake answer itself.
        self._respond: Callable[[HttpRequest], Any] = SecurityMiddleware(
            XFrameOptionsMiddleware(FrameAncestorsMiddleware(self._answer))  # type: ignore[arg-type]
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        match = (
            _WEBHOOK_PATH.match(environ.get("PATH_INFO", ""))
            if environ.get("REQUEST_METHOD") == "POST"
            else None
        )
        if match is None:
            return self.django_app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            request = WSGIRequest(environ)
            request.webhook_account_id = UUID(match["id"])  # type: ignore[attr-defined]
            try:
                request.get_host()  # ALLOWED_HOSTS, as Django's handler checks it
                # Synchronous here, and always an HttpResponse (the answer or a redirect).
                response: HttpResponse = self._respond(request)
            except DisallowedHost:
                response = JsonResponse({"error": "host not allowed"}, status=400)
        finally:
            signals.request_finished.send(sender=self.__class__)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    @staticmethod
    def _answer(request: HttpRequest) -> HttpResponseBase:
        account_id: UUID = request.webhook_account_id  # type: ignore[attr-defined]
        try:
            return webhook_answer(request, account_id)
        except Exception:
            log.exception("webhook intake failed for account %s", account_id)
            return JsonResponse({"error": "internal error"}, status=500)
