"""Response headers every page gets."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class FrameAncestorsMiddleware:
    """Deny framing by default with CSP as well as X-Frame-Options.

    Views that must be framed by a configured helpdesk set ``response["Content-Security-Policy"]``
    themselves (and mark ``xframe_options_exempt``); this middleware leaves those alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response
