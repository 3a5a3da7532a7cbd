"""The REST API (``/api/v1/``, OpenAPI 3.1), its API keys, and outgoing event webhooks."""
