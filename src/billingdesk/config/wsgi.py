"""WSGI entry point: Django, with webhook intake answered in front of its middleware.

``POST /webhooks/<uuid>/`` is the one URL gateways call at high rates; it is served by
``gateways.views.WebhookIntakeApp`` (same answers, no session/auth/message middleware).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")
_django = get_wsgi_application()  # sets Django up: app modules import only after this

from billingdesk.gateways.views import WebhookIntakeApp  # noqa: E402

application = WebhookIntakeApp(_django)
