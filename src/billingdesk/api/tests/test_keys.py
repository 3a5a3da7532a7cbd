"""API keys: shown once, stored hashed, scoped, expiring, IP-bound, rate-limited (fail closed),
and the ``billingdesk apikey`` command."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from billingdesk.api import keys
from billingdesk.api.keys import KeyRefused, apikey_authenticate, apikey_create, apikey_revoke
from billingdesk.api.models import ApiKey
from billingdesk.core.errors import InvalidRequest

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_digest_and_prefix() -> None:
    key, text = apikey_create(name="bot", scopes=["read"])
    assert text.startswith(f"bdk_{key.prefix}_")
    secret = text.split("_", 2)[2]
    assert key.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert apikey_authenticate(token=text, ip="1.2.3.4", scope="read") == key


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "invalid_key"),
        (lambda t: "bdk_000000000000_" + t.split("_", 2)[2], "invalid_key"),
        (lambda t: "nonsense", "invalid_key"),
    ],
)
def test_a_wrong_key_is_refused(mangle: Callable[[str], str], code: str) -> None:
    _, text = apikey_create(name="bot", scopes=["read"])
    with pytest.raises(KeyRefused) as refused:
        apikey_authenticate(token=mangle(text), ip="1.2.3.4", scope="read")
    assert (refused.value.status, refused.value.code) == (401, code)


def test_revoked_expired_out_of_scope_and_wrong_address_are_refused() -> None:
    _, revoked = apikey_create(name="a", scopes=["read"])
    apikey_revoke(prefix=revoked.split("_")[1])
    key, expired = apikey_create(
        name="b", scopes=["read"], expires_at=timezone.now() + timedelta(hours=1)
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _, reader = apikey_create(name="c", scopes=["read"])
    _, office = apikey_create(name="d", scopes=["read"], allowed_ips="10.0.0.0/8\n192.0.2.7")
    cases = [
        (revoked, "1.1.1.1", "read", 401, "key_revoked"),
        (expired, "1.1.1.1", "read", 401, "key_expired"),
        (reader, "1.1.1.1", "actions", 403, "scope_missing"),
        (office, "1.1.1.1", "read", 403, "ip_not_allowed"),
        (office, "", "read", 403, "ip_not_allowed"),
    ]
    for token, ip, scope, status, code in cases:
        with pytest.raises(KeyRefused) as refused:
            apikey_authenticate(token=token, ip=ip, scope=scope)
        assert (refused.value.status, refused.value.code) == (status, code)
    assert apikey_authenticate(token=office, ip="10.4.5.6", scope="read")
    assert apikey_authenticate(token=office, ip="192.0.2.7", scope="read")


def test_the_rate_limit_answers_429_with_retry_after_then_the_next_minute_is_new() -> None:
    key, text = apikey_create(name="bot", scopes=["read"], rate_limit_per_minute=3)
    for _ in range(3):
        apikey_authenticate(token=text, ip="1.1.1.1", scope="read")
    with pytest.raises(KeyRefused) as refused:
        apikey_authenticate(token=text, ip="1.1.1.1", scope="read")
    assert refused.value.status == 429 and 0 < (refused.value.retry_after or 0) <= 60
    from billingdesk.api.models import ApiKeyWindow

    ApiKeyWindow.objects.update(minute=timezone.now() - timedelta(minutes=2))
    apikey_authenticate(token=text, ip="1.1.1.1", scope="read")
    assert ApiKeyWindow.objects.count() == 1  # the old minute is dropped
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_the_rate_limiter_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    _, text = apikey_create(name="bot", scopes=["read"])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("counter table gone")

    monkeypatch.setattr(keys.ApiKeyWindow.objects, "get_or_create", broken)
    with pytest.raises(KeyRefused) as refused:
        apikey_authenticate(token=text, ip="1.1.1.1", scope="read")
    assert refused.value.status == 503


@pytest.mark.parametrize(
    "options",
    [
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["everything"]},
        {"name": "x", "scopes": ["read"], "allowed_ips": "not-an-ip"},
        {"name": "x", "scopes": ["read"], "rate_limit_per_minute": 0},
        {"name": "x", "scopes": ["read"], "expires_at": timezone.now() - timedelta(days=1)},
    ],
)
def test_bad_key_settings_are_refused_with_a_reason(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        apikey_create(**options)


def test_the_key_acts_as_a_named_service_identity() -> None:
    key, _ = apikey_create(name="Refund bot", scopes=["actions"])
    from billingdesk.accounts.selectors import role_of
    from billingdesk.actions.audit import actor_label

    assert actor_label(key.user) == f"API key Refund bot (apikey-{key.prefix})"
    assert role_of(key.user) == "agent"
    reader, _ = apikey_create(name="Reader", scopes=["read"])
    assert role_of(reader.user) == "read_only"


def test_cli_create_list_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("apikey", "create", "--name", "ops", "--scope", "read", "--ip", "10.0.0.1")
    text = capsys.readouterr().out.strip()
    assert apikey_authenticate(token=text, ip="10.0.0.1", scope="read")
    call_command("apikey", "list")
    assert "ops  [active]  read" in capsys.readouterr().out
    call_command("apikey", "revoke", text.split("_")[1])
    with pytest.raises(KeyRefused):
        apikey_authenticate(token=text, ip="10.0.0.1", scope="read")


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--name", "x", "--scope", "root"],
        ["create", "--name", "x"],
        ["create", "--name", "x", "--scope", "read", "--expires", "tomorrow"],
        ["create", "--name", "x", "--scope", "read", "--rate", "lots"],
        ["create", "--name", "x", "--scope", "read", "--ip", "300.1.1.1"],
        ["revoke", "bdk_nothere"],
    ],
)
def test_cli_bad_input_exits_2_with_a_message(argv: list[str]) -> None:
    with pytest.raises(CommandError) as failed:
        call_command("apikey", *argv)
    assert failed.value.returncode == 2 and str(failed.value)


def test_the_admin_shows_a_new_key_once(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/api/apikey/add/",
        {"name": "From admin", "scope_choices": ["read", "push"], "rate_limit_per_minute": 60,
         "allowed_ips": ""},
        follow=True,
    )  # fmt: skip
    shown = [str(m) for m in response.context["messages"]]
    key = ApiKey.objects.get(name="From admin")
    assert key.scopes == ["push", "read"]
    text = next(m for m in shown if "bdk_" in m).rsplit(" ", 1)[1]
    assert apikey_authenticate(token=text, ip="1.1.1.1", scope="push") == key
    page = admin_client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert text not in page
