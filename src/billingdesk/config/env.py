"""Reading settings from the environment without failing at import.

A wrong value (``BILLINGDESK_WEBHOOK_DRAIN_DELAY=soon``) must not be a traceback from deep in
Django's start-up: each reader here returns the default instead and records what was wrong,
and ``billingdesk.config.checks`` turns the record into a system-check error that names the
variable, the value and what it should be (``billingdesk check``, and every command that runs
checks, such as ``migrate`` and ``serve``, stops on it).

Reading has no side effects: nothing is created or written. ``prepare_data_dir`` (called by
the ``billingdesk`` command and ``manage.py`` before Django starts) creates the data
directory and the installation's secret key file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    variable: str
    value: str
    expected: str


# What was wrong with the environment when the settings were read.
PROBLEMS: list[Problem] = []

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() not in _FALSE:
        PROBLEMS.append(Problem(name, value, "one of 1/0, true/false, yes/no, on/off"))
        return default
    return False


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        number = None
    if number is None or (minimum is not None and number < minimum):
        floor = f" of at least {minimum}" if minimum is not None else ""
        PROBLEMS.append(Problem(name, value, f"a whole number{floor}"))
        return default
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number: float | None = float(value)
    except ValueError:
        number = None
    if number is None or number != number or (minimum is not None and number < minimum):
        floor = f" of at least {minimum:g}" if minimum is not None else ""
        PROBLEMS.append(Problem(name, value, f"a number (seconds){floor}"))
        return default
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if not value:
        return default
    if value not in choices:
        PROBLEMS.append(Problem(name, value, "one of " + ", ".join(choices)))
        return default
    return value


def env_class_path(name: str, default: str, *, what: str) -> str:
    """A dotted class path whose module exists (found without running it), else the default.

    Django would otherwise fail deep inside start-up (django-tasks resolves its backend when
    the first ``@task`` is defined, long before system checks run).
    """
    value = _raw(name)
    if not value:
        return default
    module, _, attribute = value.rpartition(".")
    try:
        found = bool(module and attribute) and find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        PROBLEMS.append(Problem(name, value, f"the dotted path of {what}, e.g. {default}"))
        return default
    return value


def data_dir() -> Path:
    return Path(os.environ.get("BILLINGDESK_DATA_DIR", Path.cwd() / "var")).resolve()


def secret_key_path() -> Path:
    return data_dir() / "secret_key"


def read_secret_key() -> str:
    """``BILLINGDESK_SECRET_KEY``, else the key file ``prepare_data_dir`` made, else ''."""
    key = os.environ.get("BILLINGDESK_SECRET_KEY", "")
    if key:
        return key
    try:
        return secret_key_path().read_text().strip()
    except OSError:
        return ""


def prepare_data_dir() -> None:
    """Create the data directory (SQLite database, static files) and, unless the environment
    gives one, a per-installation secret key, so a demo needs no setup."""
    root = data_dir()
    (root / "static").mkdir(parents=True, exist_ok=True)
    if os.environ.get("BILLINGDESK_SECRET_KEY"):
        return
    path = secret_key_path()
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
