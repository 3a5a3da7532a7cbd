"""Operational endpoints (the landing page, which reads every app, is ``config.views``)."""

from __future__ import annotations

import sys

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET


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
