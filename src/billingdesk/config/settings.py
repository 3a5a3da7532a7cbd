"""Settings for every billingdesk process.

Complete defaults so that a fresh checkout runs with no configuration: an embedded SQLite
database and the database-backed task queue under ``BILLINGDESK_DATA_DIR`` (``./var``),
console email, DEBUG off unless asked for. Production overrides come from the environment
(see ``.env.example``); nothing here is meant to be edited per installation.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BILLINGDESK_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _local_secret_key() -> str:
    """A per-installation key kept in the data directory, so a demo needs no setup.

    Production sets ``BILLINGDESK_SECRET_KEY``; the file is only the zero-configuration default.
    """
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = os.environ.get("BILLINGDESK_SECRET_KEY") or _local_secret_key()
# Fernet keys (comma separated, newest first) for gateway and helpdesk credentials at rest.
# When unset, one key is derived from SECRET_KEY (see billingdesk.core.crypto).
ENCRYPTION_KEYS = _env_list("BILLINGDESK_ENCRYPTION_KEYS")

DEBUG = _env_bool("BILLINGDESK_DEBUG", False)
ALLOWED_HOSTS = _env_list("BILLINGDESK_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("BILLINGDESK_CSRF_TRUSTED_ORIGINS")
# The address gateways and customers reach this installation at; used to build webhook URLs.
BASE_URL = os.environ.get("BILLINGDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "billingdesk.core",
    "billingdesk.accounts",
    "billingdesk.billing",
    "billingdesk.gateways",
    "billingdesk.gateways.sandbox",
    "billingdesk.panel",
    "billingdesk.actions",
    "billingdesk.gateways.stripe",
    "billingdesk.documents",
    "billingdesk.helpdesks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "billingdesk.core.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "billingdesk.core.middleware.FrameAncestorsMiddleware",
]

ROOT_URLCONF = "billingdesk.config.urls"
WSGI_APPLICATION = "billingdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # money, day, moment and safe_url in every template (core/templatetags).
            "builtins": ["billingdesk.core.templatetags.billingdesk"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'billingdesk.sqlite3'}",
        conn_max_age=int(os.environ.get("BILLINGDESK_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take the
    # write lock up front, so two writers queue on busy_timeout instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("BILLINGDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español"), ("de", "Deutsch")]
TIME_ZONE = os.environ.get("BILLINGDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request without it
# Serve app static files straight from the packages, so `billingdesk serve` needs no
# collectstatic step; production may still run collectstatic for compressed files.
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = os.environ.get(
    "BILLINGDESK_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
# Documents (invoices, receipts, credit notes): sender, the online VIES check (off: no network
# by default), how long after issue a document is re-issued when the customer adds a tax id,
# and the directory of the DejaVu TTF fonts embedded in PDFs (Debian: fonts-dejavu-core).
DEFAULT_FROM_EMAIL = os.environ.get("BILLINGDESK_FROM_EMAIL", "billing@localhost")
BILLINGDESK_VIES_CHECK = _env_bool("BILLINGDESK_VIES_CHECK", False)
BILLINGDESK_REISSUE_DAYS = int(os.environ.get("BILLINGDESK_REISSUE_DAYS", "30"))
BILLINGDESK_PDF_FONT_DIR = os.environ.get(
    "BILLINGDESK_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"
)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = _env_bool("BILLINGDESK_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips a client's own),
# requests it marks https are treated as secure (redirects, CSRF checks, absolute URLs).
# Off by default: without such a proxy a client could claim https itself.
if _env_bool("BILLINGDESK_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Largest webhook body accepted; gateways send a few kB, so this only stops abuse.
WEBHOOK_MAX_BODY_BYTES = int(os.environ.get("BILLINGDESK_WEBHOOK_MAX_BODY_BYTES", 1_048_576))
# A webhook whose processing failed is retried this many times, with growing delays.
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("BILLINGDESK_WEBHOOK_MAX_ATTEMPTS", 8))
# A drain of an account's webhooks is queued this many seconds after the first event that
# needs one, so that under a steady stream each drain applies full batches instead of running
# back to back for a handful of events each (job overhead per event then dominates).
WEBHOOK_DRAIN_DELAY_SECONDS = float(os.environ.get("BILLINGDESK_WEBHOOK_DRAIN_DELAY", 0.25))
# Reasons an agent picks from for every action (code, label), and the actions that also need
# a written explanation (any action with the code "other" always does).
ACTION_REASON_CODES = [
    ("requested_by_customer", "Requested by the customer"),
    ("duplicate", "Duplicate payment"),
    ("fraudulent", "Fraudulent"),
    ("service_issue", "Service problem"),
    ("billing_error", "Billing error"),
    ("goodwill", "Goodwill gesture"),
    ("other", "Other"),
]
ACTION_REASON_TEXT_REQUIRED = set(
    _env_list("BILLINGDESK_ACTION_REASON_TEXT_REQUIRED", "refund,void,cancel_subscription")
)
# Region used to read phone numbers written without an international prefix.
DEFAULT_PHONE_REGION = os.environ.get("BILLINGDESK_DEFAULT_PHONE_REGION", "US")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BILLINGDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
