"""Sign-in throttling with django-axes: the backend, the client address and the lock-out page.

Every form that checks a password passes the request to ``authenticate`` (Django's login and
admin forms, the embedded panel's sign-in popup), so ``ThrottleBackend`` sees each attempt;
axes records failures per account and per client address, and while either is over
``AXES_FAILURE_LIMIT`` (``BILLINGDESK_LOGIN_FAILURE_LIMIT``) within the cool-off
(``BILLINGDESK_LOGIN_COOLOFF_MINUTES``) every attempt is refused, the right password included.
A wrong two-factor code counts as a failed attempt too (``twofactor``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class ThrottleBackend(AxesStandaloneBackend):
    """Refuse sign-ins from locked accounts and addresses.

    ``authenticate()`` without a request is not a sign-in attempt anyone can repeat from
    outside (the CLI, the test client's ``login``): it is not counted and not refused here,
    rather than failing with axes' "request required" error.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]


def client_ip(request: HttpRequest) -> str:
    """The peer address; forwarded headers are client-controlled, so they are not read."""
    return str(request.META.get("REMOTE_ADDR") or "")


def login_allowed(request: HttpRequest, username: str) -> bool:
    """Whether this account and address may try again now."""
    return bool(AxesProxyHandler.is_allowed(request, {"username": username}))


def login_failed(request: HttpRequest, username: str) -> None:
    """Count a failed step that Django's ``authenticate`` did not see (a wrong code)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def _minutes(cool_off: timedelta | None) -> int:
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_message(request: HttpRequest | None = None) -> str:
    minutes = _minutes(get_cool_off(request))
    if not minutes:
        return _("Too many failed sign-in attempts: this account is locked. Ask an admin.")
    return ngettext(
        "Too many failed sign-in attempts: signing in is locked for %(minutes)d minute. "
        "Wait, then try again (or ask an admin to unlock it).",
        "Too many failed sign-in attempts: signing in is locked for %(minutes)d minutes. "
        "Wait, then try again (or ask an admin to unlock it).",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page every locked-out attempt gets (HTTP 429), wherever the form was."""
    response = render(
        request,
        "accounts/locked_out.html",
        {"message": lockout_message(request)},
        status=429,
    )
    # The embedded panel's popup keeps its opener (see helpdesks.views.signin).
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    response["Cache-Control"] = "no-store"
    return response
