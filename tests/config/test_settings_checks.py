"""Settings: complete defaults, read without side effects, wrong values explained at start-up.

Each case runs the real ``billingdesk`` command (or a bare import of the settings) in a fresh
process with its own environment, because settings are read once per process.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BILLINGDESK_") and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(PYTHONPATH=SRC, BILLINGDESK_DATA_DIR=str(data_dir), **extra)
    return env


def check(data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "billingdesk", "check"],
        env=_env(data_dir, **extra),
        capture_output=True,
        text=True,
        check=False,
    )


def test_defaults_pass_every_check(tmp_path: Path) -> None:
    result = check(tmp_path / "var")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "explained"),
    [
        ("BILLINGDESK_WEBHOOK_DRAIN_DELAY", "soon", "a number (seconds)"),
        ("BILLINGDESK_WEBHOOK_DRAIN_DELAY", "-1", "at least 0"),
        ("BILLINGDESK_WEBHOOK_MAX_ATTEMPTS", "eight", "a whole number"),
        ("BILLINGDESK_REISSUE_DAYS", "3.5", "a whole number"),
        ("BILLINGDESK_DB_CONN_MAX_AGE", "forever", "a whole number"),
        ("BILLINGDESK_DEBUG", "perhaps", "true/false"),
    ],
)
def test_a_malformed_value_is_named_with_what_it_should_be(
    tmp_path: Path, variable: str, value: str, explained: str
) -> None:
    result = check(tmp_path, **{variable: value})
    assert result.returncode == 1
    assert "billingdesk.E001" in result.stderr
    assert f"{variable}={value!r}" in result.stderr and explained in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "code", "words"),
    [
        ("BILLINGDESK_TASK_BACKEND", "django_tasks.backends.nope.Backend", "E001", "task backend"),
        ("BILLINGDESK_EMAIL_BACKEND", "smtp", "E001", "email backend"),
        ("BILLINGDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.Nope", "E003", "email"),
        ("BILLINGDESK_ENCRYPTION_KEYS", "not-a-key", "E004", "not a Fernet key"),
        ("BILLINGDESK_EXTRA_APPS", "acme_not_installed", "E005", "is not installed"),
        ("DATABASE_URL", "mongodb://localhost/x", "E006", "DATABASE_URL cannot be used"),
    ],
)
def test_an_unusable_value_stops_start_up_with_an_explanation(
    tmp_path: Path, variable: str, value: str, code: str, words: str
) -> None:
    result = check(tmp_path, **{variable: value})
    assert result.returncode == 1
    assert f"billingdesk.{code}" in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_encryption_key_that_is_bad_is_caught_too(tmp_path: Path) -> None:
    good = Fernet.generate_key().decode()
    assert check(tmp_path, BILLINGDESK_ENCRYPTION_KEYS=good).returncode == 0
    result = check(tmp_path, BILLINGDESK_ENCRYPTION_KEYS=f"{good},{good[:-4]}")
    assert "Key number 2" in result.stderr and result.returncode == 1


def test_importing_the_settings_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    code = (
        "import billingdesk.config.settings as s; "
        "print(s.SECRET_KEY.startswith('django-insecure-'), s.BILLINGDESK_SECRET_KEY_MISSING)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["True", "True"]
    assert not data_dir.exists()


def test_the_command_makes_one_secret_key_per_installation(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    assert check(data_dir).returncode == 0
    key = (data_dir / "secret_key").read_text()
    assert len(key) >= 50 and (data_dir / "secret_key").stat().st_mode & 0o077 == 0
    assert check(data_dir).returncode == 0
    assert (data_dir / "secret_key").read_text() == key


def test_without_any_secret_key_the_checks_stop_start_up(tmp_path: Path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='billingdesk.config.settings'; "
        "django.setup(); from django.core.management import call_command; call_command('check')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(tmp_path / "empty"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "billingdesk.E002" in result.stderr and "BILLINGDESK_SECRET_KEY" in result.stderr


def test_the_reference_connector_is_registered_only_when_enabled(tmp_path: Path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='billingdesk.config.settings'; "
        "django.setup(); from billingdesk.gateways.registry import kinds; "
        "print(sorted(k for k, _ in kinds()))"
    )

    def registered(**extra: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=_env(tmp_path, BILLINGDESK_SECRET_KEY="k" * 50, **extra),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    # Built-in connectors are added by several hands: the test names the reference only.
    default = set(ast.literal_eval(registered()))
    assert {"braintree", "custom", "sandbox", "stripe"} <= default
    assert {"paypal", "recurly", "woocommerce"} <= default
    assert "reference" not in default
    enabled = registered(BILLINGDESK_EXTRA_APPS="billingdesk.gateways.reference")
    assert set(ast.literal_eval(enabled)) == default | {"reference"}


def test_a_connector_declaring_more_or_less_than_it_implements_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from billingdesk.config.checks import connector_capabilities
    from billingdesk.gateways import registry
    from billingdesk.gateways.interface import ActionResult, Capability
    from billingdesk.gateways.reference.connector import ReferenceConnector

    assert connector_capabilities() == []

    class Overclaiming(ReferenceConnector):
        kind = "overclaiming"
        capabilities = ReferenceConnector.capabilities | {Capability.SEND_INVOICE}

    class Underclaiming(ReferenceConnector):
        kind = "underclaiming"
        capabilities = frozenset({Capability.BACKFILL, Capability.WEBHOOKS})

        def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
            return ActionResult(objects=[])

    monkeypatch.setitem(registry._CONNECTORS, Overclaiming.kind, Overclaiming)
    monkeypatch.setitem(registry._CONNECTORS, Underclaiming.kind, Underclaiming)
    messages = [m.msg for m in connector_capabilities() if m.id == "billingdesk.E007"]
    assert any("declares send_invoice but does not implement invoice_send" in m for m in messages)
    assert any("implements invoice_send but declares none of send_invoice" in m for m in messages)
    assert any("implements refund_create" in m for m in messages)  # Underclaiming's inherited
