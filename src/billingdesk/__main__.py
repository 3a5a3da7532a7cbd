"""The ``billingdesk`` console command (also ``python -m billingdesk``).

Every Django management command works through it (``billingdesk migrate``,
``billingdesk createsuperuser``…). Called alone or with ``--help`` it prints an overview of
billingdesk's own commands, found in the installed billingdesk apps rather than listed here,
so a command another app adds (``gateway``…) shows up by itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

SETTINGS_MODULE = "billingdesk.config.settings"
_OVERVIEW_FLAGS = {"-h", "--help"}


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def own_commands() -> dict[str, str]:
    """billingdesk's management commands (name -> one-line description), sorted by name."""
    from django.core.management import get_commands, load_command_class

    found: dict[str, str] = {}
    for name, app in sorted(get_commands().items()):
        if app == "billingdesk" or app.startswith("billingdesk."):
            try:
                summary = _first_line(str(load_command_class(app, name).help))
            except Exception as exc:  # one broken command must not hide the others
                summary = f"(cannot be loaded: {type(exc).__name__}: {exc})"
            found[name] = summary
    return found


def overview() -> str:
    commands = own_commands()
    width = max((len(name) for name in commands), default=0)
    lines = [
        "billingdesk: billing support beside your helpdesk, with your payment gateways mirrored.",
        "",
        "Usage: billingdesk <command> [options]",
        "",
        "billingdesk commands:",
        *(f"  {name.ljust(width)}  {summary}" for name, summary in commands.items()),
        "",
        "Start here: `billingdesk demo` seeds sandbox data and starts the server and a worker.",
        "Help on one command: billingdesk <command> --help",
        "Every Django command works too (migrate, createsuperuser, …): billingdesk help",
        "Configuration is read from the environment; see README.md and .env.example.",
    ]
    return "\n".join(lines)


def _settings_problem() -> str | None:
    """Load the settings; a description of what is wrong with them, or None."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading one setting imports the module
    except Exception as exc:  # settings are read from the environment: any error is bad input
        return f"{type(exc).__name__}: {exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args

    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import InterfaceError
    from django.db.utils import OperationalError as DatabaseUnreachable

    if args == ["--version"]:  # Django would print its own version
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"billingdesk {version('billingdesk')}")
        except PackageNotFoundError:
            print("billingdesk (not installed as a package)")
        return 0
    try:
        from billingdesk.config.env import prepare_data_dir

        prepare_data_dir()  # the data directory and the secret key file, before settings load
    except OSError as exc:
        print(f"billingdesk: cannot prepare BILLINGDESK_DATA_DIR: {exc}", file=sys.stderr)
        return 1
    # With --settings, Django picks the module itself; loading ours first would pin it.
    custom_settings = any(arg.startswith("--settings") for arg in args)
    problem = None if show_traceback or custom_settings else _settings_problem()
    if problem:
        print(
            f"billingdesk: the configuration is invalid ({problem}). Check the BILLINGDESK_* "
            "and DATABASE_URL environment variables (see .env.example).",
            file=sys.stderr,
        )
        return 1
    try:
        if not args or (len(args) == 1 and args[0] in _OVERVIEW_FLAGS):
            django.setup()
            print(overview())
            return 0
        execute_from_command_line(["billingdesk", *args])
    except ImproperlyConfigured as exc:
        if show_traceback:
            raise
        print(f"billingdesk: configuration error: {exc}", file=sys.stderr)
        return 1
    except (DatabaseUnreachable, InterfaceError) as exc:
        if show_traceback:
            raise
        print(
            f"billingdesk: the database cannot be used: {exc}".rstrip()
            + "\nCheck DATABASE_URL and that the database server is running.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("\nbillingdesk: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
