"""Sign-in views: password, then the TOTP code when the user has a device; TOTP enrolment.

``/login/`` and ``/admin/login/`` are both this view, so the throttle and the second factor
apply to the admin too. The embedded panel's sign-in popup (``helpdesks.views.signin``) uses
``pending_start`` and ``code_verify`` for its own code step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import django_otp
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billingdesk.accounts import twofactor
from billingdesk.accounts.sso_state import sign_in_context, sso_only
from billingdesk.accounts.throttle import lockout_response, login_allowed, login_failed

# Session key of a sign-in whose password was right and whose code is still owed.
PENDING_KEY = "billingdesk_2fa_pending"
PENDING_MAX_AGE = 5 * 60


def pending_start(request: HttpRequest, user: AbstractBaseUser, *, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "u": user.pk,
        "b": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
        "at": int(time.time()),
        "next": next_url,
    }


def _code_user(request: HttpRequest) -> tuple[AbstractBaseUser | None, dict[str, Any] | None]:
    """Whose code this is: a pending sign-in, or a signed-in session that still owes one."""
    pending = request.session.get(PENDING_KEY)
    if isinstance(pending, dict) and int(pending.get("at", 0)) > time.time() - PENDING_MAX_AGE:
        user = get_user_model().objects.filter(pk=pending.get("u", 0), is_active=True).first()
        return user, pending
    if request.user.is_authenticated:
        assert isinstance(request.user, AbstractBaseUser)
        return request.user, None
    return None, None


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    ok: bool
    error: str = ""
    next_url: str = ""
    response: HttpResponse | None = None  # the lock-out page, when it applies


def code_verify(request: HttpRequest) -> CodeOutcome:
    """Check the posted ``code``; on success the session is signed in and verified."""
    user, pending = _code_user(request)
    if user is None:
        return CodeOutcome(False, _("This sign-in has expired: enter your password again."))
    username = user.get_username()
    if not login_allowed(request, username):
        return CodeOutcome(False, response=lockout_response(request))
    device = twofactor.code_check(user, str(request.POST.get("code", "")))
    if device is None:
        login_failed(request, username)
        if not login_allowed(request, username):
            return CodeOutcome(False, response=lockout_response(request))
        return CodeOutcome(
            False,
            _("That code is not right. Enter the code your authenticator app shows now."),
        )
    if pending is not None:
        request.session.pop(PENDING_KEY, None)
        auth_login(request, user, backend=str(pending["b"]))  # type: ignore[arg-type]
    django_otp.login(request, device)
    request.session[twofactor.SESSION_KEY] = "ok"
    return CodeOutcome(True, next_url=str(pending["next"]) if pending else "")


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("home")


class LoginView(auth_views.LoginView):
    """The password step; users with a TOTP device continue to the code step. With single
    sign-on in "SSO only" mode, only superusers may still use a password."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **sign_in_context(self.request)}

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if sso_only() and not user.is_superuser:
            form.add_error(None, _("Sign in with single sign-on: passwords are turned off."))
            return self.form_invalid(form)
        if twofactor.has_device(user):
            pending_start(self.request, user, next_url=self.get_success_url())
            return HttpResponseRedirect(reverse("login-code"))
        auth_login(self.request, user)
        if twofactor.required_for(user):
            messages.info(
                self.request, _("Your role needs two-factor sign-in: set it up to continue.")
            )
            query = urlencode({"next": self.get_success_url()})
            return HttpResponseRedirect(f"{reverse('two-factor')}?{query}")
        self.request.session[twofactor.SESSION_KEY] = "ok"
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """``/login/code/``: the TOTP code after the password."""
    user = _code_user(request)[0]
    if user is None:
        return redirect("login")
    error = ""
    if request.method == "POST":
        outcome = code_verify(request)
        if outcome.response is not None:
            return outcome.response
        if outcome.ok:
            return HttpResponseRedirect(
                _safe_next(request, outcome.next_url or request.GET.get("next", ""))
            )
        error = outcome.error
    return render(
        request,
        "accounts/login_code.html",
        {"error": error, "username": user.get_username()},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """``/account/two-factor/``: enrol an authenticator app (QR code, or the URI and secret)."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    enabled = twofactor.has_device(user)
    if enabled and not twofactor.session_satisfied(request):
        return redirect("login-code")  # owing a code: no second device before it is given
    next_url = request.GET.get("next", "")
    if enabled:
        return render(request, "accounts/two_factor.html", {"enabled": True})
    device = twofactor.enrolment_device(user)
    error = ""
    if request.method == "POST":
        if twofactor.enrolment_confirm(request, device, str(request.POST.get("code", ""))):
            messages.success(request, _("Two-factor sign-in is on for your account."))
            return HttpResponseRedirect(_safe_next(request, next_url))
        error = _("That code is not right: scan the code again and enter the code shown now.")
    uri = device.config_url
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": False,
            "uri": uri,
            "secret": secret,
            "qr": twofactor.qr_svg(uri),
            "error": error,
            "required": twofactor.required_for(user),
        },
        status=400 if error else 200,
    )
