"""System checks that explain a wrong configuration at start-up, in plain words.

Django runs them before ``migrate``, ``serve``, ``runserver`` and ``check`` (and ``billingdesk
check --deploy`` adds Django's own deployment checks); an error stops the command with a
message naming the environment variable, the value and what it should be, instead of a
traceback from wherever the value was first used.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from billingdesk.config import env


@register()
def environment_values(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(
            f"{p.variable}={p.value!r} is not valid: it must be {p.expected}.",
            hint=f"Fix or unset {p.variable} (see .env.example); the default is used meanwhile.",
            id="billingdesk.E001",
        )
        for p in env.PROBLEMS
    ]


@register()
def secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "BILLINGDESK_SECRET_KEY_MISSING", False):
        return [
            Error(
                "No secret key: BILLINGDESK_SECRET_KEY is unset and there is no "
                f"{env.secret_key_path()} file.",
                hint="Set BILLINGDESK_SECRET_KEY, or run any `billingdesk` command once to "
                "create the key file in BILLINGDESK_DATA_DIR.",
                id="billingdesk.E002",
            )
        ]
    return []


def _import_error(path: str) -> str:
    try:
        import_string(path)
    except ImportError as exc:
        return str(exc)
    return ""


@register()
def email_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # A task backend whose module is missing is caught while the settings are read (E001):
    # django-tasks resolves it while apps load, before any check could run.
    errors: list[CheckMessage] = []
    problem = _import_error(settings.EMAIL_BACKEND)
    if problem:
        errors.append(
            Error(
                f"The email backend {settings.EMAIL_BACKEND!r} cannot be loaded: {problem}.",
                hint="BILLINGDESK_EMAIL_BACKEND must name a Django email backend class, e.g. "
                "django.core.mail.backends.smtp.EmailBackend.",
                id="billingdesk.E003",
            )
        )
    return errors


@register()
def encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for position, key in enumerate(settings.ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"Key number {position} of BILLINGDESK_ENCRYPTION_KEYS is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="billingdesk.E004",
                )
            )
    return errors


@register()
def extra_apps(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(
            f"The app {name!r} (from BILLINGDESK_EXTRA_APPS or a billingdesk.gateways / "
            "billingdesk.helpdesks entry point) is not installed, so it was left out.",
            hint="Install the package that provides it in this environment, or remove it.",
            id="billingdesk.E005",
        )
        for name in getattr(settings, "BILLINGDESK_EXTRA_APPS_MISSING", [])
    ]


@register()
def database_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problem = getattr(settings, "BILLINGDESK_DATABASE_URL_PROBLEM", "")
    if problem:
        return [
            Error(
                f"DATABASE_URL cannot be used: {problem}.",
                hint="Use sqlite:///path/to/file.sqlite3 or postgres://user:password@host:5432/"
                "name; the embedded SQLite database is used meanwhile.",
                id="billingdesk.E006",
            )
        ]
    return []


@register()
def connector_capabilities(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from billingdesk.gateways.registry import capability_mismatches, connectors

    return [
        Error(
            f"The {cls.display_name} connector ({cls.__module__}.{cls.__qualname__}) {problem}.",
            hint="Its capabilities must list exactly the actions it implements (see "
            "billingdesk.gateways.registry.ACTION_METHODS); the contract suite in "
            "tests/contract/ checks the same.",
            id="billingdesk.E007",
        )
        for cls in connectors()
        for problem in capability_mismatches(cls)
    ]


@register()
def single_sign_on(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """SSO half-configured is refused at start-up, with what is missing."""
    if not getattr(settings, "OIDC_RP_CLIENT_ID", ""):
        return []
    errors: list[CheckMessage] = []
    needed = {
        "BILLINGDESK_OIDC_CLIENT_SECRET": settings.OIDC_RP_CLIENT_SECRET,
        "BILLINGDESK_OIDC_ISSUER": settings.OIDC_OP_ISSUER,
        "BILLINGDESK_OIDC_AUTHORIZATION_ENDPOINT": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "BILLINGDESK_OIDC_TOKEN_ENDPOINT": settings.OIDC_OP_TOKEN_ENDPOINT,
        "BILLINGDESK_OIDC_JWKS_ENDPOINT": settings.OIDC_OP_JWKS_ENDPOINT,
    }
    for name, value in needed.items():
        if not value:
            errors.append(Error(f"{name} is not set, and single sign-on needs it.",
                                hint="See docs/sso.md.", id="billingdesk.E120"))  # fmt: skip
    from billingdesk.accounts.models import Role

    for part in str(settings.BILLINGDESK_SSO_ROLES).replace(";", ",").split(","):
        if "=" in part and part.split("=", 1)[0].strip() not in Role.values:
            errors.append(Error(
                f"BILLINGDESK_SSO_ROLES: {part.split('=', 1)[0].strip()!r} is not a role",
                hint="Roles: " + ", ".join(Role.values), id="billingdesk.E121",
            ))  # fmt: skip
    return errors
