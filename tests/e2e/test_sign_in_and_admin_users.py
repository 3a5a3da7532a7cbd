"""Sign-in with a TOTP code, and creating users of every role in the admin, in a real browser."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.panel.tests.factories import agent

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def current_code(key: bytes, *, step: int = 30) -> str:
    return str(TOTP(key, step=step).token()).zfill(6)


def test_enrol_then_sign_in_with_a_totp_code(
    live_server: Any, login: Callable[[str, str], Any]
) -> None:
    agent("agent", "alex", PASSWORD)
    page = login("alex", PASSWORD)

    # Enrol: the page shows the QR code and the secret an authenticator app would read.
    page.goto(f"{live_server.url}/account/two-factor/")
    assert page.locator(".qr svg").count() == 1
    secret = page.inner_text("#totp-secret").strip()
    assert page.inner_text("#totp-uri").startswith("otpauth://totp/billingdesk")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", current_code(key))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Two-factor sign-in is on")
    assert TOTPDevice.objects.filter(user__username="alex", confirmed=True).count() == 1

    # Sign out, sign in again: the password alone now leads to the code step.
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login/")
    page.goto(f"{live_server.url}/console/")
    page.fill("input[name=username]", "alex")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/login/code/")
    page.goto(f"{live_server.url}/console/")  # the password alone signed nobody in
    assert "/login/?next=" in page.url
    page.goto(f"{live_server.url}/login/code/")
    page.fill("input[name=code]", "000000" if current_code(key) != "000000" else "111111")
    page.click("main button[type=submit]")
    assert "not right" in page.inner_text("[role=alert]")
    device = TOTPDevice.objects.get(user__username="alex")
    device.throttling_failure_count = 0  # django-otp's own delay after a wrong code
    device.throttling_failure_timestamp = None
    device.save()
    # A code of the next period: the one just used at enrolment cannot be used twice.
    page.fill("input[name=code]", str(TOTP(key, drift=1).token()).zfill(6))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")
    assert "alex" in page.inner_text("header")


def test_create_a_user_of_every_role_in_the_admin(
    live_server: Any, login: Callable[[str, str], Any]
) -> None:
    User.objects.create_superuser("root", email="root@acme.example", password=PASSWORD)
    page = login("root", PASSWORD)
    for role in Role:
        page.goto(f"{live_server.url}/admin/auth/user/add/")
        page.fill("#id_username", f"new-{role.value}")
        page.fill("#id_password1", "a-Long-pass-9173")
        page.fill("#id_password2", "a-Long-pass-9173")
        page.select_option("#id_agent_profile-0-role", role.value)
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        user = User.objects.get(username=f"new-{role.value}")
        assert AgentProfile.objects.get(user=user).role == role.value
        assert role_of(user) == role
    page.goto(f"{live_server.url}/admin/auth/user/")
    rows = [line.strip() for line in page.inner_text("#result_list").splitlines()]
    for role in Role:
        line = next(r for r in rows if r.startswith(f"new-{role.value}"))
        assert role.label in line
    root = next(r for r in rows if r.startswith("root"))
    assert "admin" in root
