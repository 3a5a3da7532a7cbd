"""Deployment defaults: HTTPS settings, caching of personal pages, the SQLite file's mode,
framing of embeds, session lifetime and future-dated webhook signatures."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from billingdesk.core.errors import SignatureInvalid
from billingdesk.core.middleware import FrameAncestorsMiddleware
from billingdesk.core.signing import sign_header, verify_header
from billingdesk.helpdesks.embed import embed_headers
from billingdesk.helpdesks.models import origin_clean

# Settings are read once per process: each configuration is read in a fresh interpreter.
SETTINGS_PROBE = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in (
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_AGE", "SESSION_EXPIRE_AT_BROWSER_CLOSE",
)}))
"""


def _settings_in_a_fresh_process(tmp_path: Path, **env_vars: str) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="billingdesk.config.settings",
        BILLINGDESK_DATA_DIR=str(tmp_path / "data"),
        **env_vars,
    )
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_https_settings_are_off_by_default_and_sessions_last_a_working_day(
    tmp_path: Path,
) -> None:
    assert _settings_in_a_fresh_process(tmp_path) == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_AGE": 8 * 3600,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
    }


def test_https_and_session_settings_come_from_the_environment(tmp_path: Path) -> None:
    assert _settings_in_a_fresh_process(
        tmp_path,
        BILLINGDESK_SSL_REDIRECT="true",
        BILLINGDESK_HSTS_SECONDS="31536000",
        BILLINGDESK_HSTS_INCLUDE_SUBDOMAINS="true",
        BILLINGDESK_HSTS_PRELOAD="true",
        BILLINGDESK_SESSION_AGE="3600",
        BILLINGDESK_SESSION_EXPIRE_AT_BROWSER_CLOSE="true",
    ) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_AGE": 3600,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
    }


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600)
def test_the_redirect_spares_healthz_and_hsts_is_sent_over_https(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    assert client.get("/healthz").status_code == 200  # load-balancer checks stay on http
    secure = client.get("/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600"


@pytest.mark.django_db
def test_signed_in_pages_and_the_admin_are_not_cached(admin_client: Client) -> None:
    for path in ("/", "/console/", "/admin/"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"].split(", "), path


@pytest.mark.django_db
def test_a_session_cookie_lasts_eight_hours(client: Client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_user("agent", password="a-long-password-1")
    response = client.post("/login/", {"username": "agent", "password": "a-long-password-1"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600


SQLITE_PROBE = """
import django
django.setup()
from django.db import connection
connection.cursor().execute("CREATE TABLE IF NOT EXISTS probe (id integer)")
"""


@pytest.mark.parametrize("existing_mode", [None, 0o644])
def test_the_sqlite_database_is_readable_by_its_owner_only(
    tmp_path: Path, existing_mode: int | None
) -> None:
    data = tmp_path / "data"
    database = data / "billingdesk.sqlite3"
    if existing_mode is not None:  # an installation from before: tightened at start
        data.mkdir()
        database.touch()
        database.chmod(existing_mode)
    env = {key: value for key, value in os.environ.items() if not key.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env.update(DJANGO_SETTINGS_MODULE="billingdesk.config.settings", BILLINGDESK_DATA_DIR=str(data))
    subprocess.run(
        [sys.executable, "-c", SQLITE_PROBE], env=env, check=True, capture_output=True, timeout=60
    )
    for path in (database, data / "billingdesk.sqlite3-wal"):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def _through_middleware(view_response: HttpResponse) -> HttpResponse:
    def view(request: HttpRequest) -> HttpResponse:
        return view_response

    return FrameAncestorsMiddleware(view)(RequestFactory().get("/"))


def test_embeds_get_an_x_frame_options_fallback() -> None:
    class Connection:  # what frame_origins needs of a connection: its kind and origins
        kind = "iframe"
        allowed_frame_origins = ["https://support.acme.com"]
        settings: dict[str, str] = {}

    one = _through_middleware(embed_headers(HttpResponse(), Connection()))  # type: ignore[arg-type]
    assert one["Content-Security-Policy"] == "frame-ancestors https://support.acme.com"
    assert one["X-Frame-Options"] == "ALLOW-FROM https://support.acme.com"
    assert one["Cache-Control"] == "no-store"
    denied = _through_middleware(embed_headers(HttpResponse(), None))
    assert denied["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert denied["X-Frame-Options"] == "DENY"
    several = HttpResponse()
    several["Content-Security-Policy"] = "frame-ancestors https://a.example https://b.example"
    # Not expressible in X-Frame-Options; browsers that know CSP use it.
    assert "X-Frame-Options" not in _through_middleware(several)


@pytest.mark.parametrize(
    "origin", ["http://support.acme.com", "http://10.0.0.5:8080", "http://*.acme.com"]
)
def test_frame_origins_must_be_https(origin: str) -> None:
    with pytest.raises(ValidationError, match="not https"):
        origin_clean(origin)


@pytest.mark.parametrize(
    "origin", ["https://support.acme.com", "http://localhost:3000", "http://127.0.0.1:8000"]
)
def test_https_and_local_frame_origins_are_accepted(origin: str) -> None:
    assert origin_clean(origin) == origin


@pytest.mark.parametrize(
    ("skew", "accepted"), [(-301, False), (-250, True), (250, True), (301, False)]
)
def test_webhook_timestamps_beyond_the_tolerance_are_refused_both_ways(
    skew: int, accepted: bool
) -> None:
    now = 1_700_000_000
    header = sign_header(b"{}", "s", timestamp=now + skew)
    if accepted:
        assert verify_header(header, b"{}", "s", now=now) == now + skew
    else:
        with pytest.raises(SignatureInvalid, match="tolerance"):
            verify_header(header, b"{}", "s", now=now)
