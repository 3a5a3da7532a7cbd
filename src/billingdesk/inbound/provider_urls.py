"""django-anymail's webhook URLs (``/anymail/<esp>/inbound/``, ``…/tracking/``), guarded.

anymail raises for a provider this installation has not configured (``ImproperlyConfigured``:
no signing key) and, for some providers, for a body it cannot read (``json`` errors, missing
fields). Anyone can reach these URLs, so neither may be a 500: an unconfigured provider is a
404 that says so, an unreadable body a 400 with the reason; nothing is stored either way.

An inbound URL of a provider that this installation cannot authenticate (no Basic-auth secret
and no signing key anymail would check) is refused (400) before anymail reads the request, so
nobody can make it fetch a message from the provider's API (Resend) on their behalf.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail import urls as anymail_urls
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def _guarded(view: View, name: str = "") -> View:
    esp = name.removesuffix("_inbound_webhook") if name.endswith("_inbound_webhook") else ""

    @wraps(view)  # keeps csrf_exempt: providers post without a CSRF token
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from billingdesk.inbound.receivers import authenticated

        if esp and request.method == "POST" and not authenticated(esp):
            return HttpResponse(
                "This email provider's inbound webhook has no secret or signing key configured "
                "on this installation (see docs/inbound-email.md).",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        try:
            return view(request, *args, **kwargs)
        except ImproperlyConfigured:
            log.warning("inbound webhook for an unconfigured provider: %s", request.path)
            return HttpResponse(
                "This email provider's webhook is not configured on this installation "
                "(see docs/inbound-email.md).",
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
            return HttpResponse(
                f"The webhook body could not be read ({type(exc).__name__}).",
                status=400,
                content_type="text/plain; charset=utf-8",
            )

    return guarded


urlpatterns = [
    URLPattern(p.pattern, _guarded(p.callback, p.name or ""), p.default_args, p.name)
    for p in anymail_urls.urlpatterns
    if isinstance(p, URLPattern)
]
app_name = anymail_urls.app_name  # reverse("anymail:…") as with anymail's own urls
