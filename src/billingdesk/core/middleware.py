"""Response headers every page gets."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_FRAME_ANCESTORS = re.compile(r"(?:^|;)\s*frame-ancestors\s+([^;]*)")


class FrameAncestorsMiddleware:
    """Deny framing by default with CSP as well as X-Frame-Options; keep pages out of caches.

    Views that must be framed by a configured helpdesk set ``response["Content-Security-Policy"]``
    themselves (and mark ``xframe_options_exempt``); this middleware leaves their CSP alone and
    adds the X-Frame-Options fallback for browsers without CSP ``frame-ancestors``: ``DENY``
    when no origin may frame the page, ``ALLOW-FROM`` when exactly one may. With several
    origins X-Frame-Options cannot say it, and browsers that know CSP ignore it anyway.

    Every response that passes here (pages, the panel, embeds, the admin, documents — not
    WhiteNoise's static files, answered before) is ``Cache-Control: no-store`` unless its view
    chose a policy: they show personal data, which must not stay in a shared or browser cache.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("Cache-Control", "no-store")
        if "X-Frame-Options" not in response.headers:
            fallback = x_frame_options_for(response.headers["Content-Security-Policy"])
            if fallback:
                response.headers["X-Frame-Options"] = fallback
        return response


def x_frame_options_for(policy: str) -> str | None:
    """The X-Frame-Options value matching a CSP's ``frame-ancestors``, if one can."""
    match = _FRAME_ANCESTORS.search(policy)
    if match is None:
        return None
    sources = match[1].split()
    if not sources or sources == ["'none'"]:
        return "DENY"
    if sources == ["'self'"]:
        return "SAMEORIGIN"
    if len(sources) == 1 and "://" in sources[0] and "*" not in sources[0]:
        return f"ALLOW-FROM {sources[0]}"
    return None
