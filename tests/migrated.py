"""Migrated databases for tests that start real billingdesk processes, made once per session.

Applying every migration costs a process ~10 s of CPU (Django renders the model states of 70+
migrations). Tests whose subject is not `migrate` itself copy a database migrated once per test
session instead: an SQLite file copied into the test's data directory, or a PostgreSQL
database created from a migrated template (``CREATE DATABASE … TEMPLATE``), with the data
directory `migrate` left beside it (the installation's secret key file). The copy is what
`billingdesk migrate` makes on this code, so the processes see what an operator's would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SQLITE_NAME = "billingdesk.sqlite3"  # in BILLINGDESK_DATA_DIR (settings._SQLITE_URL)


def _migrate(env_changes: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLINGDESK_")}
    env.pop("DATABASE_URL", None)
    env |= {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), **env_changes}
    done = subprocess.run(
        [sys.executable, "-m", "billingdesk", "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _copy_data_dir(template: Path, data_dir: Path) -> None:
    # copy2 keeps the owner-only modes of the database and the secret key file.
    shutil.copytree(template, data_dir, copy_function=shutil.copy2, dirs_exist_ok=True)


def _suffix(settings_env: tuple[tuple[str, str], ...]) -> str:
    # Settings that change the installed apps (the RQ engine adds django_rq's tables) make
    # another template.
    return hashlib.sha256(repr(settings_env).encode()).hexdigest()[:10] if settings_env else ""


@cache
def _sqlite_template(cache_dir: Path, settings_env: tuple[tuple[str, str], ...] = ()) -> Path:
    template = cache_dir / f"sqlite{_suffix(settings_env)}"
    template.mkdir(parents=True, exist_ok=True)
    _migrate({**dict(settings_env), "BILLINGDESK_DATA_DIR": str(template)})
    with closing(sqlite3.connect(template / SQLITE_NAME)) as db:  # all in the main file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template


def sqlite_migrated(
    data_dir: Path, cache_dir: Path, settings_env: dict[str, str] | None = None
) -> Path:
    """Make ``data_dir`` a migrated SQLite installation (migrated once under ``cache_dir``,
    with ``settings_env`` set); the database file."""
    _copy_data_dir(
        _sqlite_template(cache_dir, tuple(sorted((settings_env or {}).items()))), data_dir
    )
    return data_dir / SQLITE_NAME


@cache
def _postgres_template(
    database_url: str, cache_dir: Path, settings_env: tuple[tuple[str, str], ...] = ()
) -> tuple[str, Path]:
    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_migrated{_suffix(settings_env)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    data = cache_dir / name
    data.mkdir(parents=True, exist_ok=True)
    _migrate(
        {
            **dict(settings_env),
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
            "BILLINGDESK_DATA_DIR": str(data),
        }
    )
    return name, data


def postgres_migrated(
    database_url: str,
    name: str,
    data_dir: Path,
    cache_dir: Path,
    settings_env: dict[str, str] | None = None,
) -> str:
    """Create (again) the database ``name`` on ``database_url``'s server, migrated, and make
    ``data_dir`` its installation's data directory; the database's URL."""
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    template, template_data = _postgres_template(
        url, cache_dir, tuple(sorted((settings_env or {}).items()))
    )
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _copy_data_dir(template_data, data_dir)
    return url
