"""Response headers every page gets, and requests no page accepts."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound

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


_NUL_ESCAPES = re.compile(rb"%00|\\u0000", re.IGNORECASE)
_CHECKED_BODIES = ("application/x-www-form-urlencoded", "application/json", "text/")


class RejectNulMiddleware:
    """Answer 400 to a request carrying a NUL byte in its path, query string or (form or JSON)
    body. No page needs one, text columns cannot hold one (PostgreSQL refuses it with a
    ``DataError``), and refusing it here spares every form and parser from checking.

    Webhook intake is left alone: it stores the exact signed bytes and never puts them in a
    text column (and in production it is answered before Django, see ``config/wsgi.py``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            return HttpResponseBadRequest(
                "The request contains a NUL character.", content_type="text/plain"
            )
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path_info or "\x00" in request.path:
            return True
        if _NUL_ESCAPES.search(request.META.get("QUERY_STRING", "").encode("latin-1", "replace")):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS") or request.path_info.startswith(
            "/webhooks/"
        ):
            return False
        if not (request.content_type or "").startswith(_CHECKED_BODIES):
            return False  # multipart uploads are read (and bounded) by Django's parsers
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return False  # Django refuses it (400) when the view reads it
        body = request.body
        return b"\x00" in body or _NUL_ESCAPES.search(body) is not None


class MissingRecordMiddleware:
    """Answer 404 when a view of a third-party app looks up a record that does not exist.

    django-otp's admin pages (``…/totpdevice/<pk>/config/``) call ``.get()`` without a 404,
    and library URL patterns use ``<int:…>``, which SQLite refuses beyond 64 bits with
    ``OverflowError`` (our own URLs bound ids with the ``<id:…>`` converter). Either way no
    such record exists, so "not found" is the true answer, not a server error. Only views of
    libraries are covered: in billingdesk's own views such an exception stays a 500, a bug.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        match = request.resolver_match
        view_module = getattr(match.func, "__module__", "") if match else ""
        if view_module.startswith("billingdesk."):
            return None  # our own views answer 404 themselves: a miss there is a bug to see
        if isinstance(exception, (OverflowError, ObjectDoesNotExist)):
            return HttpResponseNotFound("No such record.", content_type="text/plain")
        return None
