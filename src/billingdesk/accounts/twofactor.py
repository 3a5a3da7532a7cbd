"""TOTP second factor (django-otp): who needs one, enrolment, the code check, enforcement.

A user with a confirmed TOTP device is asked for a code after the password, on every sign-in
form (console, admin, embedded panel popup). Roles listed in ``BILLINGDESK_REQUIRE_2FA``
(e.g. ``agent,finance,admin``: the roles that move money) must enrol one: until they do,
``TwoFactorMiddleware`` sends every page to the enrolment page. Everyone else may enrol from
the same page. A wrong code counts as a failed sign-in for the throttle (``throttle``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from billingdesk.accounts.selectors import role_of

# Session key: "ok" once this session's user has passed (or needs no) second factor.
SESSION_KEY = "billingdesk_2fa"
# Paths a signed-in user who still owes a code or an enrolment may reach.
_OPEN_PREFIXES = ("/login/", "/logout/", "/static/", "/healthz", "/embed/", "/favicon.ico")


def required_for(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether this user's role must use a second factor (``BILLINGDESK_REQUIRE_2FA``)."""
    roles: set[str] = set(getattr(settings, "BILLINGDESK_REQUIRE_2FA", ()))
    return bool(roles) and str(role_of(user)) in roles  # type: ignore[arg-type]


def has_device(user: AbstractBaseUser) -> bool:
    return bool(django_otp.user_has_device(user, confirmed=True))


def code_check(user: AbstractBaseUser, code: str) -> TOTPDevice | None:
    """The confirmed device this code is valid for (each code works once), or None."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and 6 <= len(code) <= 8):
        return None
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            return device  # type: ignore[no-any-return]
    return None


def enrolment_device(user: AbstractBaseUser) -> TOTPDevice:
    """The device being enrolled: unconfirmed until the first right code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def enrolment_confirm(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Confirm the device with its first code; the session counts as verified from then on."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit()) or not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    django_otp.login(request, device)
    request.session[SESSION_KEY] = "ok"
    return True


def qr_svg(data: str) -> str:
    """An SVG QR code of the otpauth URI (rendered here, so no image leaves the server)."""
    import qrcode
    import qrcode.image.svg

    out = io.BytesIO()
    qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage).save(out)
    text = out.getvalue().decode()
    return text[text.index("<svg") :] if "<svg" in text else text


def session_satisfied(request: HttpRequest) -> bool:
    """Whether the signed-in user of this session has passed the second factor it needs."""
    if request.session.get(SESSION_KEY) == "ok":
        return True
    user = request.user
    if getattr(user, "is_verified", lambda: False)():
        return True
    assert isinstance(user, AbstractBaseUser)
    if has_device(user) or required_for(user):
        return False
    request.session[SESSION_KEY] = "ok"  # checked once per session, not per request
    return True


def on_logged_in(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **_: Any
) -> None:
    """Settle, once at sign-in, whether this session owes a second factor.

    Pages then read one session key instead of querying devices on every request; a user who
    has a device (or must enrol) is left unsettled, for the code step or the enrolment.
    """
    session = getattr(request, "session", None)
    if session is not None and not has_device(user) and not required_for(user):
        session[SESSION_KEY] = "ok"


class TwoFactorMiddleware:
    """Keep a signed-in session that owes a code (or an enrolment) on the pages that settle it.

    Sign-in through ``/login/`` already asks for the code; this catches every other way in (a
    session created elsewhere, a device or a requirement added later).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.path.startswith(reverse("two-factor"))
            and not session_satisfied(request)
        ):
            assert isinstance(user, AbstractBaseUser)
            target = "login-code" if has_device(user) else "two-factor"
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(target)}?{query}")
        return self.get_response(request)


def devices_of(user: AbstractBaseUser) -> list[Any]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True))
