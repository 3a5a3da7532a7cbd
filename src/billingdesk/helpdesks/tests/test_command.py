"""``billingdesk helpdesk …``: add, list, packages, signed URLs, test tickets, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from billingdesk.core.errors import SignatureInvalid
from billingdesk.helpdesks.iframe import verification
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.tests.conftest import wired


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("helpdesk", *args, stdout=out)
    return out.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2
    return str(exc.value)


@pytest.mark.django_db
def test_add_stores_secrets_and_prints_addresses(tmp_path: Path) -> None:
    key = tmp_path / "zd.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n")
    out = run(
        "add", "zendesk", "--name", "Acme Zendesk",
        "--setting", "subdomain=acme", "--setting", "installation_id=42",
        "--setting", f"public_key=@{key}", "--secret", "api_token=zd-secret-token",
        "--setting", "api_email=bot@acme.example",
    )  # fmt: skip
    conn = HelpdeskConnection.objects.get(name="Acme Zendesk")
    assert conn.secret("api_token") == "zd-secret-token"
    assert conn.setting("public_key").startswith("-----BEGIN PUBLIC KEY-----")
    assert f"/embed/zendesk/{conn.pk}/" in out
    listing = run("list")
    assert "Acme Zendesk" in listing and "https://acme.zendesk.com" in listing
    assert "zd-secret-token" not in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "zenddesk", "--name", "x"), "unknown helpdesk kind"),
        (("add", "front", "--name", "x"), "needs --secret auth_secret"),
        (("add", "front", "--name", "x", "--secret", "auth_secret"), "KEY=VALUE"),
        (("add", "front", "--name", "x", "--secret", "nope=1"), "has no secret 'nope'"),
        (
            (
                "add",
                "iframe",
                "--name",
                "x",
                "--secret",
                "signing_secret=s",
                "--origin",
                "javascript:alert(1)",
            ),
            "is not an origin",
        ),
        (
            (
                "add",
                "iframe",
                "--name",
                "x",
                "--secret",
                "signing_secret=s",
                "--origin",
                "https://a.example; script-src *",
            ),
            "is not an origin",
        ),
        (("add", "zendesk", "--name", "x", "--setting", "subdomain=evil.com/x#"), "is not valid"),
        (
            ("add", "chatwoot", "--name", "x", "--setting", "base_url=javascript:alert(1)"),
            "is not valid",
        ),
        (("add", "zendesk", "--name", "x", "--setting", "subdomain=acme"), "needs the setting"),
        (
            ("zendesk-package", "--connection", "missing", "--output", "/tmp/x.zip"),
            "no helpdesk connection",
        ),
        (
            ("test-ticket", "--connection", "missing", "--email", "a@example.com"),
            "no helpdesk connection",
        ),
    ],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    assert message in fails(*args)
    assert not HelpdeskConnection.objects.exists()


@pytest.mark.django_db
def test_zendesk_package(tmp_path: Path) -> None:
    run("add", "zendesk", "--name", "zd", "--setting", "subdomain=acme",
        "--setting", "installation_id=42", "--setting", "public_key=x")  # fmt: skip
    conn = HelpdeskConnection.objects.get(name="zd")
    out = tmp_path / "app.zip"
    run("zendesk-package", "--connection", "zd", "--output", str(out),
        "--base-url", "https://billing.acme.example")  # fmt: skip
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
    assert {
        "manifest.json",
        "assets/logo.png",
        "assets/logo-small.png",
        "translations/en.json",
    } <= names
    sidebar = manifest["location"]["support"]["ticket_sidebar"]
    assert sidebar["url"] == f"https://billing.acme.example/embed/zendesk/{conn.pk}/"
    assert sidebar["signed"] is True
    assert manifest["frameworkVersion"] == "2.0"
    assert manifest["domainWhitelist"] == ["billing.acme.example"]
    wrong_kind = fails("freshdesk-package", "--connection", "zd", "--output", str(out))
    assert "is a Zendesk connection" in wrong_kind


@pytest.mark.django_db
def test_freshdesk_package(tmp_path: Path) -> None:
    run("add", "freshdesk", "--name", "fd", "--setting", "domain=acme", "--secret", "app_key=k")
    out = tmp_path / "fd.zip"
    run("freshdesk-package", "--connection", "fd", "--output", str(out),
        "--base-url", "https://billing.acme.example")  # fmt: skip
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
        requests = json.loads(z.read("config/requests.json"))
        iparams = json.loads(z.read("config/iparams.json"))
        index = z.read("app/index.html").decode()
        panel_css = z.read("app/styles/panel.css").decode()
    assert panel_css  # the panel's own stylesheet, not a copy kept here
    assert (
        manifest["modules"]["support_ticket"]["location"]["ticket_sidebar"]["url"] == "index.html"
    )
    launch = requests["billingdeskLaunch"]["schema"]
    assert launch["host"] == "billing.acme.example"
    assert launch["headers"]["X-Billingdesk-Key"] == "<%= iparam.app_key %>"
    assert iparams["app_key"]["secure"] is True
    assert "scripts/app.js" in index


@pytest.mark.django_db
def test_test_ticket_against_the_fake(no_sleep: list[float]) -> None:
    with wired("freshdesk") as w:
        out = run("test-ticket", "--connection", w.connection.name, "--email", "bob@example.com")
        assert "Created ticket" in out
        assert len(w.fake.tickets) == 1  # type: ignore[attr-defined]
        # Refused credentials: a plain message, exit code 2
        conn = w.connection
        conn.secrets = {**conn.secrets, "api_key": "wrong"}
        conn.save()
        assert "refused billingdesk's credentials" in fails(
            "test-ticket", "--connection", conn.name, "--email", "bob@example.com"
        )


@pytest.mark.django_db
def test_iframe_url_is_signed() -> None:
    run(
        "add",
        "iframe",
        "--name",
        "host",
        "--secret",
        "signing_secret=s3",
        "--origin",
        "https://help.acme.example",
    )
    url = run("iframe-url", "--connection", "host", "--email", "ana@example.com").strip()
    assert "/embed/iframe/" in url and "sig=" in url and "email=ana%40example.com" in url
    # The signature is the connection's: the entry accepts the URL as printed, and the same
    # query checked against any other secret is refused (a wrong signer fails this test).
    path, _, query = url.removeprefix(settings.BASE_URL).partition("?")
    assert Client().get(f"{path}?{query}").status_code == 200
    pairs = parse_qsl(query, keep_blank_values=True)
    assert verification.verify(pairs, "s3").customer_email == "ana@example.com"
    with pytest.raises(SignatureInvalid):
        verification.verify(pairs, "another-secret")


@pytest.mark.django_db
def test_agent_domains_are_set_and_checked_at_add() -> None:
    out = run(
        "add",
        "iframe",
        "--name",
        "dom",
        "--secret",
        "signing_secret=s",
        "--agent-domain",
        "@Acme.com",
    )
    assert "Connected" in out
    assert HelpdeskConnection.objects.get(name="dom").agent_email_domains == ["acme.com"]
    with pytest.raises(CommandError, match="not a domain"):
        run(
            "add",
            "iframe",
            "--name",
            "bad",
            "--secret",
            "signing_secret=s",
            "--agent-domain",
            "x y",
        )
