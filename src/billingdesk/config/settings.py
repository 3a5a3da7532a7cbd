"""Settings for every billingdesk process.

Complete defaults so that a fresh checkout runs with no configuration: an embedded SQLite
database and the database-backed task queue under ``BILLINGDESK_DATA_DIR`` (``./var``),
console email, DEBUG off unless asked for. Production overrides come from the environment
(see ``.env.example``); nothing here is meant to be edited per installation.

Importing this module only reads: a wrong value keeps its default and is reported by the
system checks in ``billingdesk.config.checks`` (see ``billingdesk.config.env``); the data
directory and the secret key file are created by ``billingdesk.config.env.prepare_data_dir``
(run by the ``billingdesk`` command), never here. Third-party connector apps are added from
``BILLINGDESK_EXTRA_APPS`` and entry points (``billingdesk.config.plugins``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url

from billingdesk.config.env import env_bool as _env_bool
from billingdesk.config.env import env_choice as _env_choice
from billingdesk.config.env import env_class_path as _env_class_path
from billingdesk.config.env import env_float as _env_float
from billingdesk.config.env import env_int as _env_int
from billingdesk.config.env import env_list as _env_list
from billingdesk.config.env import read_secret_key
from billingdesk.config.plugins import extra_apps

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BILLINGDESK_DATA_DIR", Path.cwd() / "var")).resolve()

# Production sets BILLINGDESK_SECRET_KEY; the key file in the data directory is the
# zero-configuration default. Without either (a script importing the settings before any
# `billingdesk` command ran), a fixed placeholder keeps every such process agreeing (a
# random one per process would encrypt credentials no other process can read), and the
# system checks stop every server command until a real key exists (billingdesk.E002).
SECRET_KEY = read_secret_key()
BILLINGDESK_SECRET_KEY_MISSING = not SECRET_KEY
SECRET_KEY = SECRET_KEY or "django-insecure-billingdesk-unconfigured-secret-key-placeholder"
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
    "billingdesk.gateways.braintree",
    "billingdesk.gateways.paypal",
    "billingdesk.gateways.recurly",
    "billingdesk.gateways.woocommerce",
    "billingdesk.documents",
    "billingdesk.helpdesks",
    "billingdesk.portal",
    "billingdesk.gateways.custom",
    "billingdesk.api",
    "ninja",
    "billingdesk.inbound",
    "anymail",
    "billingdesk.reports",
    "billingdesk.config",
    "billingdesk.ops",
]
INSTALLED_APPS += (_extra := extra_apps())[0]
BILLINGDESK_EXTRA_APPS_MISSING = _extra[1]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "billingdesk.core.middleware.RejectNulMiddleware",
    "billingdesk.core.middleware.MissingRecordMiddleware",
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

_SQLITE_URL = f"sqlite:///{DATA_DIR / 'billingdesk.sqlite3'}"
_DB_AGE = _env_int("BILLINGDESK_DB_CONN_MAX_AGE", 60, minimum=0)
BILLINGDESK_DATABASE_URL_PROBLEM = ""
try:
    DATABASES = {"default": dj_database_url.config(default=_SQLITE_URL, conn_max_age=_DB_AGE)}
except (ValueError, KeyError) as _exc:  # an unknown scheme or a malformed URL
    BILLINGDESK_DATABASE_URL_PROBLEM = f"{type(_exc).__name__}: {_exc}"
    DATABASES = {"default": dj_database_url.parse(_SQLITE_URL, conn_max_age=_DB_AGE)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take the
    # write lock up front, so two writers queue on busy_timeout instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": _env_float("BILLINGDESK_SQLITE_BUSY_TIMEOUT", 20, minimum=0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# --- Database timeouts: a database that stops answering fails requests, never hangs them ---
# Seconds to wait for a new PostgreSQL connection, the startup handshake included (libpq's
# connect_timeout): a server that accepts TCP but never answers fails /healthz (503) and
# pages (the styled 503 page) after this long. A `?connect_timeout=` in DATABASE_URL wins.
DB_CONNECT_TIMEOUT = _env_int("BILLINGDESK_DB_CONNECT_TIMEOUT", 5, minimum=0)
# Seconds a web request's SQL statement may run on PostgreSQL (statement_timeout, lock waits
# included; 0 = no limit). Applied by the WSGI entry point only (config/wsgi.py), so the
# worker, `migrate` and other commands keep no limit for long backfills and index builds.
DB_STATEMENT_TIMEOUT = _env_float("BILLINGDESK_DB_STATEMENT_TIMEOUT", 30, minimum=0)
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DB_CONNECT_TIMEOUT)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_TASK_BACKEND = _env_class_path(
    "BILLINGDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend", what="a task backend"
)
TASKS = {"default": {"BACKEND": _TASK_BACKEND, "QUEUES": []}}
# The distributed engine: django_tasks_rq.RQBackend keeps jobs in Redis (RQ) at this URL.
REDIS_URL = os.environ.get("BILLINGDESK_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
if _TASK_BACKEND.startswith("django_tasks_rq."):
    INSTALLED_APPS.append("django_rq")
# Crash recovery (``billingdesk worker``): each worker writes a heartbeat every
# WORKER_HEARTBEAT_SECONDS; a job whose worker has been silent for WORKER_LOST_SECONDS is put
# back on the queue (at most TASK_MAX_CLAIMS runs in all), and every WORKER_SWEEP_SECONDS each
# worker also re-queues webhook drains and backfills left without a job.
WORKER_HEARTBEAT_SECONDS = _env_float("BILLINGDESK_WORKER_HEARTBEAT", 5, minimum=0)
WORKER_LOST_SECONDS = _env_float("BILLINGDESK_WORKER_LOST_AFTER", 60, minimum=0)
WORKER_SWEEP_SECONDS = _env_float("BILLINGDESK_WORKER_SWEEP", 30, minimum=0)
TASK_MAX_CLAIMS = _env_int("BILLINGDESK_TASK_MAX_CLAIMS", 3, minimum=0)
# Finished jobs of the database queue are deleted after this many days (0: kept forever).
TASK_RESULT_RETENTION_DAYS = _env_float("BILLINGDESK_TASK_RESULT_RETENTION_DAYS", 7, minimum=0)
# A backfill run (by `billingdesk sync` in a terminal, with no job) untouched this long has
# no process left and is resumed by a worker.
SYNC_STALE_SECONDS = _env_float("BILLINGDESK_SYNC_STALE_AFTER", 120, minimum=0)
# PayPal webhooks are verified offline; with this on, a delivery whose certificate cannot be
# downloaded is verified by PayPal's postback instead (docs/gateways/paypal.md).
PAYPAL_WEBHOOK_POSTBACK_FALLBACK = _env_bool("BILLINGDESK_PAYPAL_POSTBACK_FALLBACK", False)

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
STATIC_ROOT = DATA_DIR / "static"  # made by prepare_data_dir: WhiteNoise warns without it
# Serve app static files straight from the packages, so `billingdesk serve` needs no
# collectstatic step; production may still run collectstatic for compressed files.
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = _env_class_path(
    "BILLINGDESK_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend",
    what="an email backend",
)
# Documents (invoices, receipts, credit notes): sender, the online VIES check (off: no network
# by default), how long after issue a document is re-issued when the customer adds a tax id,
# and the directory of the DejaVu TTF fonts embedded in PDFs (Debian: fonts-dejavu-core).
DEFAULT_FROM_EMAIL = os.environ.get("BILLINGDESK_FROM_EMAIL", "billing@localhost")
BILLINGDESK_VIES_CHECK = _env_bool("BILLINGDESK_VIES_CHECK", False)
BILLINGDESK_REISSUE_DAYS = _env_int("BILLINGDESK_REISSUE_DAYS", 30, minimum=0)
# What a re-issue that becomes reverse-charged invoices: the money kept (keep_gross) or the
# earlier net price, the VAT difference refunded by finance (keep_net). docs/documents.md.
BILLINGDESK_REISSUE_PRICE_POLICY = _env_choice(
    "BILLINGDESK_REISSUE_PRICE_POLICY", "keep_gross", ("keep_gross", "keep_net")
)
BILLINGDESK_PDF_FONT_DIR = os.environ.get(
    "BILLINGDESK_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"
)

# Inbound email (billingdesk.inbound, docs/inbound-email.md): replies to documents reach the
# helpdesk. The domain of the routing addresses (billing+<token>@domain; empty: documents keep
# the brand's Reply-To), the keys signing them (newest first; default derived from SECRET_KEY),
# the largest message kept, the helpdesk connection tickets go to (its name; default the only
# enabled one) and how many messages one sender may turn into tickets per hour.
BILLINGDESK_INBOUND_DOMAIN = os.environ.get("BILLINGDESK_INBOUND_DOMAIN", "").strip().lower()
BILLINGDESK_INBOUND_LOCALPART = os.environ.get("BILLINGDESK_INBOUND_LOCALPART", "billing").lower()
BILLINGDESK_INBOUND_KEYS = _env_list("BILLINGDESK_INBOUND_KEYS")
BILLINGDESK_INBOUND_MAX_BYTES = _env_int(
    "BILLINGDESK_INBOUND_MAX_BYTES", 10 * 2**20, minimum=64 * 2**10
)
BILLINGDESK_INBOUND_HELPDESK = os.environ.get("BILLINGDESK_INBOUND_HELPDESK", "")
# Largest single file forwarded to the helpdesk ticket (the stored message keeps them all).
BILLINGDESK_INBOUND_ATTACHMENT_MAX_BYTES = _env_int(
    "BILLINGDESK_INBOUND_ATTACHMENT_MAX_BYTES", 10 * 2**20, minimum=0
)
# Threads of `billingdesk mail-in` storing messages at once (each holds a database connection).
BILLINGDESK_INBOUND_STORE_THREADS = _env_int("BILLINGDESK_INBOUND_STORE_THREADS", 16, minimum=1)
BILLINGDESK_INBOUND_RATE_PER_HOUR = _env_int("BILLINGDESK_INBOUND_RATE_PER_HOUR", 10, minimum=1)
# django-anymail inbound webhooks (/anymail/<esp>/inbound/): the Basic-auth secret(s) and the
# per-provider signing keys anymail reads (see docs/inbound-email.md).
ANYMAIL = {
    key: value
    for key, value in {
        "WEBHOOK_SECRET": _env_list("BILLINGDESK_ANYMAIL_WEBHOOK_SECRET") or None,
        "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("BILLINGDESK_MAILGUN_WEBHOOK_SIGNING_KEY"),
        "MAILERSEND_INBOUND_SECRET": os.environ.get("BILLINGDESK_MAILERSEND_INBOUND_SECRET"),
        "POSTAL_WEBHOOK_KEY": os.environ.get("BILLINGDESK_POSTAL_WEBHOOK_KEY"),
        "MANDRILL_WEBHOOK_KEY": os.environ.get("BILLINGDESK_MANDRILL_WEBHOOK_KEY"),
        "RESEND_INBOUND_SECRET": os.environ.get("BILLINGDESK_RESEND_INBOUND_SECRET"),
        # Resend's and Brevo's inbound webhooks carry no message: anymail fetches it (and
        # Brevo's attachments) from their API with these keys.
        "RESEND_API_KEY": os.environ.get("BILLINGDESK_RESEND_API_KEY"),
        "BREVO_API_KEY": os.environ.get("BILLINGDESK_BREVO_API_KEY"),
    }.items()
    if value
}

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

# --- HTTPS deployment and sessions (issue 10): HTTPS settings are off by default, since a
# fresh checkout serves plain http on 127.0.0.1; set them behind TLS (see the README).
# Redirect every http request to https; /healthz stays on http for load-balancer checks.
SECURE_SSL_REDIRECT = _env_bool("BILLINGDESK_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Strict-Transport-Security max-age in seconds (0 = no header); sent on https responses only.
SECURE_HSTS_SECONDS = _env_int("BILLINGDESK_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("BILLINGDESK_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("BILLINGDESK_HSTS_PRELOAD", False)
# A signed-in session lasts one working day, not Django's two weeks; optionally it also ends
# when the browser closes.
SESSION_COOKIE_AGE = _env_int("BILLINGDESK_SESSION_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = _env_bool("BILLINGDESK_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# Outgoing requests (event webhooks, custom gateways' action URLs) may go to private,
# loopback and link-local addresses only when this is set (tests; a merchant on the LAN).
OUTBOUND_ALLOW_PRIVATE = _env_bool("BILLINGDESK_OUTBOUND_ALLOW_PRIVATE", False)
# Seconds an outgoing webhook or action call may take before it counts as failed.
OUTBOUND_TIMEOUT_SECONDS = _env_float("BILLINGDESK_OUTBOUND_TIMEOUT", 15, minimum=1)
# Outgoing event webhooks: delays (seconds) before each retry (Standard Webhooks' schedule,
# about 3 days in all); an endpoint failing this many days running is disabled.
API_WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
API_WEBHOOK_DISABLE_AFTER_DAYS = 7

# Largest webhook body accepted; gateways send a few kB, so this only stops abuse.
WEBHOOK_MAX_BODY_BYTES = _env_int("BILLINGDESK_WEBHOOK_MAX_BODY_BYTES", 1_048_576, minimum=1)
# A webhook whose processing failed is retried this many times, with growing delays.
WEBHOOK_MAX_ATTEMPTS = _env_int("BILLINGDESK_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
# A drain of an account's webhooks is queued this many seconds after the first event that
# needs one, so that under a steady stream each drain applies full batches instead of running
# back to back for a handful of events each (job overhead per event then dominates).
WEBHOOK_DRAIN_DELAY_SECONDS = _env_float("BILLINGDESK_WEBHOOK_DRAIN_DELAY", 0.25, minimum=0)
# Of a rejected delivery (bad signature, unreadable body) only the headers, the first
# WEBHOOK_REJECTED_KEEP_BYTES of the body and the whole body's SHA-256 are kept. At most
# WEBHOOK_REJECTED_PER_MINUTE rejections per client address and account are stored; beyond
# that the sender gets 429 and nothing is written.
WEBHOOK_REJECTED_KEEP_BYTES = _env_int("BILLINGDESK_WEBHOOK_REJECTED_KEEP_BYTES", 4096, minimum=0)
WEBHOOK_REJECTED_PER_MINUTE = _env_int("BILLINGDESK_WEBHOOK_REJECTED_PER_MINUTE", 30, minimum=0)
# Rejected, duplicate and processed webhook events older than this many days are deleted by
# the workers (and `billingdesk webhooks prune`); 0 keeps them forever. Pending and failed
# events are never pruned.
WEBHOOK_RETENTION_DAYS = _env_float("BILLINGDESK_WEBHOOK_RETENTION_DAYS", 30, minimum=0)
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
# Actions whose reason needs written words besides its code (none by default: a code says
# why; an admin who wants more lists the actions here).
ACTION_REASON_TEXT_REQUIRED = set(_env_list("BILLINGDESK_ACTION_REASON_TEXT_REQUIRED", ""))
# The panel: two paid charges of one amount, card and customer this close together are
# flagged as a probable duplicate; an open panel asks every PANEL_POLL_SECONDS whether what it
# shows changed (background work, webhooks) and reloads itself when it did.
DUPLICATE_CHARGE_WINDOW_SECONDS = _env_float(
    "BILLINGDESK_DUPLICATE_CHARGE_WINDOW", 15 * 60, minimum=0
)
PANEL_POLL_SECONDS = _env_float("BILLINGDESK_PANEL_POLL", 10, minimum=1)
# Actions (``billingdesk.actions``): a request is claimed in one transaction, the gateway is
# called outside any, and the outcome recorded in a second one. A claim still running after
# ACTION_CLAIM_TIMEOUT_SECONDS is reconciled by the workers' sweep (every
# ACTIONS_SWEEP_SECONDS): the gateway is asked again with the same idempotency key. Past
# ACTION_RECONCILE_MAX_SECONDS (below the gateways' key lifetime, 24 h at Stripe) it is marked
# "unknown: check the gateway" instead.
ACTION_CLAIM_TIMEOUT_SECONDS = _env_float("BILLINGDESK_ACTION_CLAIM_TIMEOUT", 300, minimum=0)
ACTION_RECONCILE_MAX_SECONDS = _env_float(
    "BILLINGDESK_ACTION_RECONCILE_MAX_AGE", 12 * 3600, minimum=0
)
ACTIONS_SWEEP_SECONDS = _env_float("BILLINGDESK_ACTIONS_SWEEP", 60, minimum=0)
# The audit chain is verified every AUDIT_CHECK_SECONDS by a worker; each sound check appends a
# checkpoint signed with AUDIT_ANCHOR_KEY (not stored in the database; derived from the secret
# key when unset) to AUDIT_ANCHOR_FILE (empty: to the log only).
AUDIT_CHECK_SECONDS = _env_float("BILLINGDESK_AUDIT_CHECK_INTERVAL", 3600, minimum=0)
AUDIT_ANCHOR_KEY = (
    os.environ.get("BILLINGDESK_AUDIT_ANCHOR_KEY")
    or hashlib.sha256(f"billingdesk.audit.anchor:{SECRET_KEY}".encode()).hexdigest()
)
AUDIT_ANCHOR_FILE = os.environ.get(
    "BILLINGDESK_AUDIT_ANCHOR_FILE", str(DATA_DIR / "audit-anchors.log")
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


# --- sign-in hardening (issue 10 #10) -------------------------------------------------------
# django-axes counts failed sign-ins (the console's /login/, /admin/login/, the embedded
# panel's sign-in popup and the two-factor code step) per account and per client address, and
# refuses further attempts from either for the cool-off period, the right password included.
# django-otp adds TOTP second factors (authenticator apps); roles listed in
# BILLINGDESK_REQUIRE_2FA must enrol one before they can use anything else.
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE += [
    "django_otp.middleware.OTPMiddleware",
    "billingdesk.accounts.twofactor.TwoFactorMiddleware",
    # Last: turns a locked-out attempt flagged by the backend into the lock-out page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "billingdesk.accounts.throttle.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env_int("BILLINGDESK_LOGIN_FAILURE_LIMIT", 5, minimum=0)
AXES_COOLOFF_TIME = _env_float("BILLINGDESK_LOGIN_COOLOFF_MINUTES", 15, minimum=0) / 60
# Either an account or a client address reaching the limit is locked (not only the pair).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "billingdesk.accounts.throttle.lockout_response"
AXES_VERBOSE = False
# Behind a proxy, the address is the one it reports (X-Forwarded-For is never read otherwise).
AXES_CLIENT_IP_CALLABLE = "billingdesk.accounts.throttle.client_ip"
OTP_TOTP_ISSUER = os.environ.get("BILLINGDESK_OTP_ISSUER", "billingdesk")
BILLINGDESK_REQUIRE_2FA = set(_env_list("BILLINGDESK_REQUIRE_2FA"))
# Failed sign-ins are logged as warnings; axes' per-request INFO lines are noise.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # type: ignore[index]
# --- end of sign-in hardening -------------------------------------------------------------

# --- customer billing pages (portal) ------------------------------------------------------
# How long a billing link works after it was made, and the session it opens.
BILLINGDESK_PORTAL_LINK_SECONDS = _env_int("BILLINGDESK_PORTAL_LINK_DAYS", 7, minimum=1) * 86400
BILLINGDESK_PORTAL_SESSION_SECONDS = (
    _env_int("BILLINGDESK_PORTAL_SESSION_MINUTES", 30, minimum=1) * 60
)


# --- single sign-on for agents (issue 22): OpenID Connect, code flow with PKCE -------------
# Off unless BILLINGDESK_OIDC_CLIENT_ID is set; see docs/sso.md. mozilla-django-oidc runs the
# flow; billingdesk.config.sso adds the issuer/audience checks, identities by issuer+subject,
# role mapping from the IdP's groups and the audit.
INSTALLED_APPS += ["mozilla_django_oidc"]
AUTHENTICATION_BACKENDS += ["billingdesk.config.sso.SSOBackend"]
OIDC_RP_CLIENT_ID = os.environ.get("BILLINGDESK_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("BILLINGDESK_OIDC_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("BILLINGDESK_OIDC_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("BILLINGDESK_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("BILLINGDESK_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("BILLINGDESK_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("BILLINGDESK_OIDC_JWKS_ENDPOINT", "")
OIDC_OP_LOGOUT_ENDPOINT = os.environ.get("BILLINGDESK_OIDC_LOGOUT_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("BILLINGDESK_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("BILLINGDESK_OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = 10
OIDC_TOKEN_USE_BASIC_AUTH = _env_bool("BILLINGDESK_OIDC_TOKEN_BASIC_AUTH", True)
OIDC_AUTHENTICATE_CLASS = "billingdesk.config.sso.SSOStartView"
OIDC_CALLBACK_CLASS = "billingdesk.config.sso.SSOCallbackView"
# How long an SSO session lasts before it is checked with the IdP again (seconds).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = _env_int("BILLINGDESK_SSO_RECHECK_SECONDS", 900, minimum=60)
BILLINGDESK_SSO_LABEL = os.environ.get("BILLINGDESK_SSO_LABEL", "Sign in with single sign-on")
BILLINGDESK_SSO_ROLES = os.environ.get("BILLINGDESK_SSO_ROLES", "")
BILLINGDESK_SSO_GROUPS_CLAIM = os.environ.get("BILLINGDESK_SSO_GROUPS_CLAIM", "groups")
# Passwords only for superusers (a way in when the IdP is down); everyone else signs in by SSO.
BILLINGDESK_SSO_ONLY = _env_bool("BILLINGDESK_SSO_ONLY", False)
MIDDLEWARE += ["billingdesk.config.sso.SSORefresh"]
