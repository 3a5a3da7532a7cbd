"""WSGI entry point: Django, with webhook intake answered in front of its middleware.

``POST /webhooks/<uuid>/`` is the one URL gateways call at high rates; it is served by
``gateways.views.WebhookIntakeApp`` (same answers, no session/auth/message middleware).
"""

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.wsgi import get_wsgi_application

from billingdesk.config.env import prepare_data_dir

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
prepare_data_dir()  # a server started without the `billingdesk` command needs it too
_django = get_wsgi_application()  # sets Django up: app modules import only after this

from django.conf import settings  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from billingdesk.gateways.views import WebhookIntakeApp  # noqa: E402


def _web_statement_timeout(sender: object, connection: Any, **kwargs: object) -> None:
    """Bound every SQL statement of a web request (``BILLINGDESK_DB_STATEMENT_TIMEOUT``).

    Set per connection here, in the WSGI entry point, rather than in the settings, so that
    only web processes get it: workers and ``migrate`` may legitimately run longer.
    """
    if connection.vendor == "postgresql" and settings.DB_STATEMENT_TIMEOUT > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                [f"{int(settings.DB_STATEMENT_TIMEOUT * 1000)}ms"],
            )


connection_created.connect(_web_statement_timeout, dispatch_uid="billingdesk-web-timeout")

_app = WebhookIntakeApp(_django)

# Granian starts every request's environ from a copy of the process environment, CGI style:
# DATABASE_URL, the secret keys and an HTTP_PROXY would reach request.META (and an
# HTTP_-named one request.headers, which webhook intake stores). They are dropped again here.
_PROCESS_ENV = dict(os.environ)


def application(environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
    for key, value in _PROCESS_ENV.items():
        if environ.get(key) == value:
            del environ[key]
    return _app(environ, start_response)
