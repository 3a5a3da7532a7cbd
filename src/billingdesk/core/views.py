"""Operational endpoints (the landing page, which reads every app, is ``config.views``)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

_FAVICON = (Path(__file__).parent / "static" / "core" / "favicon.ico").read_bytes()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the demo's smoke test.

    The check opens a new connection rather than reusing the thread's persistent one, so it
    proves that the database accepts connections now, and a server that accepts TCP but
    never answers fails it within ``BILLINGDESK_DB_CONNECT_TIMEOUT`` seconds (503).
    """
    probe = connections.create_connection("default")
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any driver error means "not healthy"; the body says which part
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    finally:
        probe.close()
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``: browsers ask for it on every page, whatever the pages link to."""
    return HttpResponse(_FAVICON, content_type="image/x-icon")


def _error_page(
    request: HttpRequest, *, status: int, title: str, detail: str, exception: Exception | None
) -> HttpResponse:
    """A 4xx page with the site's look, the signed-in user's navigation and where to go next.

    The reason given by the code that refused (``Http404("No person 12.")``,
    ``PermissionDenied("needs the agent role")``) is shown when there is one: these are
    written for the agent, never tracebacks or queries.
    """
    reason = str(exception) if exception is not None and exception.args else ""
    if reason.startswith("{") or "Resolver404" in reason:
        reason = ""  # Django's own "no URL matched" carries a dict of tried patterns
    context = {"status": status, "title": title, "detail": detail, "reason": reason, "help": True}
    return render(request, "core/error.html", context, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``."""
    return _error_page(
        request,
        status=404,
        title=_("Page not found"),
        detail=_(
            "There is nothing at this address. The record may have been merged or removed, "
            "or the link is mistyped."
        ),
        exception=exception,
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``."""
    return _error_page(
        request,
        status=403,
        title=_("Not allowed"),
        detail=_(
            "Your role does not let you open this page. An administrator can change your role."
        ),
        exception=exception,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``."""
    return _error_page(
        request,
        status=400,
        title=_("Bad request"),
        detail=_("The address or the form sent was not understood. Go back and try again."),
        exception=None,  # may name internals (a suspicious header, a broken upload)
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a plain page instead of a traceback, 503 when the database failed.

    Django calls it from inside the ``except`` block of the failed request, so the
    exception is ``sys.exc_info()``. The page is rendered without the request: the
    database (sessions, the signed-in user) may be what failed.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError):
        status = 503
        title = _("Temporarily unavailable")
        detail = _("The database is not answering. Please try again in a moment.")
    else:
        status = 500
        title = _("Something went wrong")
        detail = _("The error was recorded. Please try again, or tell your administrator.")
    page = get_template("core/error.html").render(
        {"status": status, "title": title, "detail": detail}
    )
    response = HttpResponse(page, status=status)
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = "30"
    return response
