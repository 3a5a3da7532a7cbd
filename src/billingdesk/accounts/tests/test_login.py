"""Sign-in through the real forms: throttling per account and per address, then TOTP codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.helpdesks.models import HelpdeskConnection

pytestmark = pytest.mark.django_db
PASSWORD = "correct-Horse-battery-42"


@pytest.fixture(autouse=True)
def _no_device_delay(settings: object) -> None:
    # django-otp also slows a device down after a wrong code (1 s, 2 s, 4 s…); the tests
    # follow a wrong code with the right one at once, so they switch that delay off.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined]


@pytest.fixture
def agent() -> User:
    user = User.objects.create_user("ana", email="ana@acme.example", password=PASSWORD)
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    return user


def code_of(device: TOTPDevice, *, later: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += later * device.step
    return str(totp.token()).zfill(device.digits)


def device_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _signin_url() -> str:
    conn = HelpdeskConnection.objects.create(
        name="frame", kind="iframe", secrets={"signing_secret": "s"}
    )
    return reverse("helpdesks:signin", kwargs={"connection_id": conn.pk})


FORMS = {
    "console": lambda: reverse("login"),
    "admin": lambda: "/admin/login/?next=/admin/",
    "embed sign-in": _signin_url,
}


@pytest.mark.parametrize("where", list(FORMS))
def test_thirty_wrong_passwords_then_the_right_one_is_refused(agent: User, where: str) -> None:
    url = FORMS[where]()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(30):
        response = client.post(url, {"username": "ana", "password": f"wrong-{attempt}"})
        assert response.status_code in (200, 400, 429)
    response = client.post(url, {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429
    assert "locked for 15 minutes" in response.content.decode()
    assert not signed_in(client)
    assert client.get(reverse("console")).status_code == 302  # still sent to sign in


def test_the_right_password_works_below_the_limit(agent: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(4):
        client.post(reverse("login"), {"username": "ana", "password": f"wrong-{attempt}"})
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and signed_in(client)


def test_an_account_is_locked_whatever_the_address(agent: User) -> None:
    for n in range(5):
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(
            reverse("login"), {"username": "ana", "password": "nope"}
        )
    client = Client(REMOTE_ADDR="192.0.2.200")
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429 and not signed_in(client)


def test_an_address_is_locked_whatever_the_account(agent: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        client.post(reverse("login"), {"username": f"guess{n}", "password": "nope"})
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429 and not signed_in(client)
    # The same account from another address is not locked by that address's guesses.
    other = Client(REMOTE_ADDR="192.0.2.1")
    assert (
        other.post(reverse("login"), {"username": "ana", "password": PASSWORD}).status_code == 302
    )


def test_the_lock_ends_after_the_cool_off(agent: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        client.post(reverse("login"), {"username": "ana", "password": "nope"})
    assert (
        client.post(reverse("login"), {"username": "ana", "password": PASSWORD}).status_code == 429
    )
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(minutes=16)
        )
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and signed_in(client)


def test_a_user_with_a_device_gives_the_code_after_the_password(agent: User) -> None:
    device = device_for(agent)
    client = Client()
    response = client.post(
        reverse("login") + "?next=/console/", {"username": "ana", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("login-code")
    assert not signed_in(client)  # the password alone signs nobody in
    page = client.get(reverse("login-code"))
    assert "authenticator app" in page.content.decode()
    wrong = client.post(reverse("login-code"), {"code": code_of(device, later=10)})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert not signed_in(client)
    right = client.post(reverse("login-code"), {"code": code_of(device)})
    assert right.status_code == 302 and right["Location"] == "/console/"
    assert signed_in(client)
    assert client.get("/console/").status_code == 200


def test_wrong_codes_count_towards_the_lock(agent: User) -> None:
    device = device_for(agent)
    client = Client()
    client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    for n in range(5):
        client.post(reverse("login-code"), {"code": "00000" + str(n)})
    response = client.post(reverse("login-code"), {"code": code_of(device)})
    assert response.status_code == 429 and not signed_in(client)


def test_admin_sign_in_asks_for_the_code_too(agent: User) -> None:
    agent.is_staff = agent.is_superuser = True
    agent.save()
    device_for(agent)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "ana", "password": PASSWORD})
    assert response["Location"] == reverse("login-code")
    assert client.get("/admin/").status_code == 302


def test_a_session_that_owes_a_code_reaches_no_page(agent: User) -> None:
    device_for(agent)
    client = Client()
    client.force_login(agent)
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login-code"))
    assert client.get(reverse("two-factor")).status_code == 302  # no second device either


def test_enrolment_turns_on_the_code_step(agent: User) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    page = client.get(reverse("two-factor")).content.decode()
    assert "otpauth://totp/billingdesk%3Aana?secret=" in page and "<svg" in page
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert client.post(reverse("two-factor"), {"code": "123"}).status_code == 400
    response = client.post(reverse("two-factor"), {"code": code_of(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("logout"))
    again = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert again["Location"] == reverse("login-code")


def test_a_role_that_requires_it_must_enrol_first(agent: User, settings: object) -> None:
    settings.BILLINGDESK_REQUIRE_2FA = {"agent", "finance", "admin"}  # type: ignore[attr-defined]
    client = Client()
    response = client.post(
        reverse("login") + "?next=/console/", {"username": "ana", "password": PASSWORD}
    )
    assert response["Location"].startswith(reverse("two-factor"))
    assert client.get("/console/")["Location"].startswith(reverse("two-factor"))
    assert "Your role needs two-factor" in client.get(reverse("two-factor")).content.decode()
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    done = client.post(reverse("two-factor") + "?next=/console/", {"code": code_of(device)})
    assert done["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    # A read-only user is not concerned.
    User.objects.create_user("reader", password=PASSWORD)
    reader = Client()
    reader.post(reverse("login"), {"username": "reader", "password": PASSWORD})
    assert reader.get("/console/").status_code == 200


def test_the_helpdesk_sign_in_popup_asks_for_the_code_too(agent: User) -> None:
    device = device_for(agent)
    url = _signin_url()
    popup = Client()
    step = popup.post(url, {"username": "ana", "password": PASSWORD})
    assert step.status_code == 200 and b'name="code"' in step.content
    assert b"bd-agent" not in step.content and not signed_in(popup)
    assert step["Cross-Origin-Opener-Policy"] == "unsafe-none"
    wrong = popup.post(url, {"code": code_of(device, later=10)})
    assert wrong.status_code == 400 and b"bd-agent" not in wrong.content
    done = popup.post(url, {"code": code_of(device)})
    assert done.status_code == 200 and b'id="bd-agent"' in done.content
    assert signed_in(popup)
