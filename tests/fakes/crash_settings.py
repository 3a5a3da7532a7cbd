"""Settings of the worker processes in tests/test_worker_crash.py: billingdesk's own, plus the
test-only crash app (a slow gateway, a drain that hangs on request)."""

from billingdesk.config.settings import *  # noqa: F403
from billingdesk.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.fakes.crash_app.apps.CrashAppConfig"]
