"""The processes that run billingdesk as a whole: ``serve`` (the web server of the
configured WSGI application), ``worker`` (every app's background jobs and the ingest
upkeep) and ``demo`` (seeds every app and runs both). They sit at the top of the layers,
beside ``config``, because each of them orchestrates apps of every layer."""
