"""The agent's language for the console and the panel: ``?lang=`` when given, else what the
browser asks for (``Accept-Language``) among ``LANGUAGES``, else ``LANGUAGE_CODE``.

The console has no ``LocaleMiddleware`` (the customer pages and the reports choose their
language their own way): its views run inside ``translation.override`` instead, so words,
money and dates (Babel follows the active language) are the agent's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

View = Callable[..., HttpResponse]


def agent_language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in dict(settings.LANGUAGES):
        return chosen
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def in_agent_language(view: View) -> View:
    """``view`` rendered in the agent's language (``Content-Language`` says which)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = agent_language(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper
