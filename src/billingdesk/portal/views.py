"""The customer billing pages: open a link, see the history, download a document.

Opening a link checks it, starts a short session scoped to that one person and redirects to
the clean history URL, so the token is not kept in the address bar, the history or a
Referer. Every page then reads the person from the session only, re-checks that the link
version has not been revoked, renders in the customer's language (``?lang=``, else the
browser's) and is sent ``no-store``, unframeable and without a referrer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET

from billingdesk.billing.models import Person
from billingdesk.documents.models import Document
from billingdesk.documents.views import pdf_response
from billingdesk.portal import services
from billingdesk.portal.selectors import history_for_person
from billingdesk.portal.services import LinkRefused, Refusal

View = Callable[..., HttpResponse]
PER_PAGE = 25
SESSION_KEY = "portal"
LANGUAGES = {code for code, _ in settings.LANGUAGES}


def _language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in LANGUAGES:
        request.session[SESSION_KEY + "_lang"] = chosen
        return chosen
    kept = request.session.get(SESSION_KEY + "_lang")
    if isinstance(kept, str) and kept in LANGUAGES:
        return kept
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def _guarded(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Language"] = translation.get_language() or settings.LANGUAGE_CODE
    return response


def _refused(request: HttpRequest, why: Refusal) -> HttpResponse:
    status = 403 if why is Refusal.TAMPERED else 410
    return render(request, "portal/refused.html", {"why": why.value}, status=status)


def customer_page(view: View) -> View:
    """In the customer's language, with the portal's headers; ``person_id`` from the session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(_language(request)):
            return _guarded(view(request, *args, **kwargs))

    return wrapper


def session_person(view: View) -> View:
    """Pass the session's person id; a missing, expired or revoked session is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scope = request.session.get(SESSION_KEY)
        if not isinstance(scope, dict):
            return _refused(request, Refusal.EXPIRED)
        person_id, version, until = scope.get("p"), scope.get("v"), scope.get("until")
        if not (isinstance(person_id, int) and isinstance(version, int)):
            return _refused(request, Refusal.TAMPERED)
        if not isinstance(until, int | float) or until < time.time():
            request.session.pop(SESSION_KEY, None)
            return _refused(request, Refusal.EXPIRED)
        if not services.access_current(person_id=person_id, version=version):
            request.session.pop(SESSION_KEY, None)
            return _refused(request, Refusal.REVOKED)
        return view(request, person_id, *args, **kwargs)

    return wrapper


@require_GET
@customer_page
def link_open(request: HttpRequest, token: str) -> HttpResponse:
    try:
        person_id, version = services.link_read(token)
    except LinkRefused as refused:
        return _refused(request, refused.why)
    if not Person.objects.filter(pk=person_id).exists():
        return _refused(request, Refusal.REVOKED)
    # A new session id: whatever was in the browser before cannot be fixed onto this person.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "p": person_id,
        "v": version,
        "until": int(time.time()) + services.SESSION_SECONDS,
    }
    return redirect("portal:history")


@require_GET
@customer_page
@session_person
def history(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    pages = Paginator(history_for_person(person_id=person_id), PER_PAGE)
    page = pages.get_page(request.GET.get("page"))
    return render(
        request,
        "portal/history.html",
        {"person": person, "page": page, "languages": settings.LANGUAGES},
    )


@require_GET
@customer_page
@session_person
def document_pdf(request: HttpRequest, person_id: int, document_id: int) -> HttpResponse:
    # Another person's document is "not found", exactly like one that does not exist.
    document = Document.objects.filter(pk=document_id, person_id=person_id).first()
    if document is None:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    return pdf_response(document)
