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
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billingdesk.accounts.throttle import client_ip
from billingdesk.actions.models import ActionRequest
from billingdesk.billing.identity import normalize_email
from billingdesk.billing.models import Charge, Person
from billingdesk.core.errors import (
    CapabilityMissing,
    NotAllowed,
    NotFound,
    OperationalError,
    UserFacingError,
)
from billingdesk.core.parsing import parse_id
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.models import Document
from billingdesk.documents.views import pdf_response
from billingdesk.portal import account, branding, limits, services, subscriptions
from billingdesk.portal.branding import NO_BRAND, framing_apply, look_for_person
from billingdesk.portal.forms import CancelForm, LinkRequestForm, QuestionForm, TaxIdForm
from billingdesk.portal.questions import question_ask
from billingdesk.portal.selectors import KIND_WORDS, history_for_person
from billingdesk.portal.services import LinkRefused, Refusal
from billingdesk.portal.tasks import portal_link_email_task

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


def _guarded(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # Framed only by the origins the person's brand lists (none: not at all).
    framing_apply(response, getattr(request, "portal_look", NO_BRAND))
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form
    # posts, which Django's CSRF check rightly refuses. The link's token never reaches a
    # page (``link_open`` answers no-referrer and redirects to the clean URL).
    response.setdefault("Referrer-Policy", "same-origin")
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
            return _guarded(request, view(request, *args, **kwargs))

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
        request.portal_look = look_for_person(person_id)  # type: ignore[attr-defined]
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
    return _session_start(request, person_id, version)


def _session_start(request: HttpRequest, person_id: int, version: int) -> HttpResponse:
    # A new session id: whatever was in the browser before cannot be fixed onto this person.
    request.session.cycle_key()
    request.portal_look = look_for_person(person_id)  # type: ignore[attr-defined]
    request.session[SESSION_KEY] = {
        "p": person_id,
        "v": version,
        "until": int(time.time()) + services.SESSION_SECONDS,
    }
    response = redirect("portal:history")
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@customer_page
def embed_open(request: HttpRequest) -> HttpResponse:
    """An embedding URL the merchant's backend signed (``branding.embed_person``): like a
    billing link, it starts the person's session and goes to the clean history URL."""
    person_id = branding.embed_person(
        brand_id=request.GET.get("brand", ""),
        customer=request.GET.get("customer", ""),
        expires=request.GET.get("expires", ""),
        signature=request.GET.get("signature", ""),
    )
    if person_id is None:
        return _refused(request, Refusal.TAMPERED)
    person = Person.objects.get(pk=person_id)
    return _session_start(request, person_id, services.access_version(person))


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
        {
            "person": person,
            "page": page,
            "languages": settings.LANGUAGES,
            "to_pay": account.invoices_to_pay(person_id),
            "subscriptions": subscriptions.subscriptions_of(person_id),
            "cancelled": request.GET.get("cancelled") == "1",
            "paused": request.GET.get("paused") == "1",
            "resumed": request.GET.get("resumed") == "1",
            "card_updated": request.GET.get("card") == "updated",
        },
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


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request) or None


@require_http_methods(["GET", "POST"])
@customer_page
def link_request(request: HttpRequest) -> HttpResponse:
    """ "Send me my billing link": the same answer, at the same cost, for any address.

    The look-up and the email happen in a background task; the request only validates the
    form, counts it against the per-address and per-IP limits (refusing when they cannot be
    counted) and enqueues, whether or not the address is known.
    """
    if request.method != "POST":
        return render(request, "portal/link_request.html", {"form": LinkRequestForm()})
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/link_request.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    allowed = limits.rate_allow(
        (limits.rate_key("email", normalize_email(email)), limits.LINKS_PER_EMAIL),
        (limits.rate_key("ip", client_ip(request)), limits.LINKS_PER_IP),
    )
    if not allowed:
        return render(
            request, "portal/link_request.html", {"form": form, "limited": True}, status=429
        )
    language = translation.get_language() or settings.LANGUAGE_CODE
    enqueue_on_commit(portal_link_email_task, email, language)
    return render(request, "portal/link_sent.html", {"email": email})


@require_http_methods(["GET", "POST"])
@customer_page
@session_person
def tax_id(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    context: dict[str, Any] = {"person": person, "languages": settings.LANGUAGES}
    if request.method == "POST":
        form = TaxIdForm(request.POST)
        if form.is_valid():
            try:
                outcome = account.tax_id_update(
                    person=person,
                    country=form.cleaned_data["country"],
                    value=form.cleaned_data["value"],
                    ip=_ip(request),
                )
            except UserFacingError:
                # VIES said the number is not registered (the offline checks passed).
                form.add_error("value", _("This VAT number is not registered as active."))
            else:
                context["outcome"] = outcome
        if not form.is_valid():
            context["form"] = form
            return render(request, "portal/tax_id.html", context, status=400)
    context.setdefault("form", TaxIdForm())
    context["tax_ids"] = account.tax_ids_of(person_id)
    return render(request, "portal/tax_id.html", context)


@require_GET
@customer_page
@session_person
def card(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    return render(
        request,
        "portal/card.html",
        {
            "person": person,
            "places": account.card_places(person_id),
            "languages": settings.LANGUAGES,
        },
    )


@require_POST
@customer_page
@session_person
def card_update(request: HttpRequest, person_id: int, customer_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    back = request.build_absolute_uri(reverse("portal:history")) + "?card=updated"
    try:
        url = account.card_update_start(
            person=person, customer_pk=customer_id, return_url=back, ip=_ip(request)
        )
    except NotFound:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    except CapabilityMissing:
        problem = _("Your card for this account cannot be changed here. Ask the support team.")
    except (UserFacingError, OperationalError):
        problem = _("The payment provider could not open its card page. Try again in a moment.")
    else:
        return redirect(url)
    return render(
        request,
        "portal/card.html",
        {"person": person, "places": account.card_places(person_id), "problem": problem,
         "languages": settings.LANGUAGES},
        status=409,
    )  # fmt: skip


def _about(request: HttpRequest, person_id: int) -> tuple[Document | None, Charge | None, bool]:
    """The person's document or charge named by ``?document=``/``?charge=``; False when an id
    was given that is not theirs (treated as "not found")."""
    document = charge = None
    raw_doc = request.GET.get("document") or request.POST.get("document") or ""
    raw_charge = request.GET.get("charge") or request.POST.get("charge") or ""
    if raw_doc:
        doc_id = parse_id(raw_doc)
        document = (
            Document.objects.filter(pk=doc_id, person_id=person_id).first() if doc_id else None
        )
        if document is None:
            return None, None, False
    if raw_charge:
        charge_id = parse_id(raw_charge)
        charge = (
            Charge.objects.filter(
                pk=charge_id, customer__person_id=person_id, deleted=False
            ).first()
            if charge_id
            else None
        )
        if charge is None:
            return None, None, False
    return document, charge, True


def _default_subject(document: Document | None, charge: Charge | None) -> str:
    if document is not None:
        kind = KIND_WORDS.get(document.kind, document.kind)
        return _("Question about %(what)s") % {"what": f"{kind} {document.number}"}
    if charge is not None:
        what = charge.description or charge.product or str(KIND_WORDS["charge"])
        return _("Question about %(what)s") % {"what": what}
    return _("Question about my billing")


@require_http_methods(["GET", "POST"])
@customer_page
@session_person
def ask(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    document, charge, found = _about(request, person_id)
    if not found:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    context: dict[str, Any] = {
        "person": person, "document": document, "charge": charge,
        "languages": settings.LANGUAGES,
    }  # fmt: skip
    if request.method != "POST":
        context["form"] = QuestionForm(initial={"subject": _default_subject(document, charge)})
        return render(request, "portal/ask.html", context)
    form = QuestionForm(request.POST)
    context["form"] = form
    email = person.primary_email or next(
        (c.email for c in account.customers_of(person_id) if c.email), ""
    )
    if not form.is_valid():
        return render(request, "portal/ask.html", context, status=400)
    if not email:
        form.add_error(
            None, _("We have no email address to answer you at. Write to the support team.")
        )
        return render(request, "portal/ask.html", context, status=400)
    if not limits.rate_allow(
        (limits.rate_key("question", str(person_id)), limits.QUESTIONS_PER_PERSON)
    ):
        context["limited"] = True
        return render(request, "portal/ask.html", context, status=429)
    question = question_ask(
        person=person, email=email, subject=form.cleaned_data["subject"],
        message=form.cleaned_data["message"],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        document=document, charge=charge, ip=_ip(request),
    )  # fmt: skip
    return render(
        request,
        "portal/asked.html",
        {"person": person, "reference": f"Q-{question.pk}", "email": email,
         "languages": settings.LANGUAGES},
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@customer_page
@session_person
def subscription_cancel(request: HttpRequest, person_id: int, subscription_id: int) -> HttpResponse:
    """Cancel a subscription: choose a reason, confirm on a second page, then it is done once
    (the form's key makes a second submission find the first request)."""
    person = get_object_or_404(Person, pk=person_id)
    replay = request.method == "POST" and request.POST.get("confirm") == "yes"
    replay = replay and subscriptions.key_used(request.POST.get("key", "")) is not None
    try:
        found = (
            None
            if replay
            else subscriptions.cancellable_get(
                person_id=person_id, subscription_pk=subscription_id
            )[0]
        )
    except NotFound:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    except NotAllowed:
        return render(request, "portal/cancel.html", {"person": person, "not_here": True,
                      "languages": settings.LANGUAGES}, status=409)  # fmt: skip
    reasons = subscriptions.customer_reasons()
    context: dict[str, Any] = {"person": person, "found": found, "languages": settings.LANGUAGES}
    if request.method != "POST":
        context["form"] = CancelForm(initial={"key": subscriptions.form_key()}, reasons=reasons)
        return render(request, "portal/cancel.html", context)
    form = CancelForm(request.POST, reasons=reasons)
    context["form"] = form
    if not form.is_valid():
        return render(request, "portal/cancel.html", context, status=400)
    if request.POST.get("confirm") != "yes":
        context["confirming"] = True
        context["reason_label"] = dict(reasons).get(form.cleaned_data["reason"], "")
        return render(request, "portal/cancel.html", context)
    try:
        done = subscriptions.subscription_cancel(
            person=person, subscription_pk=subscription_id,
            reason_code=form.cleaned_data["reason"], reason_text=form.cleaned_data["reason_text"],
            key=form.cleaned_data["key"], ip=_ip(request),
        )  # fmt: skip
    except NotFound:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    except (UserFacingError, OperationalError):
        context["problem"] = _(
            "Your subscription could not be cancelled just now. Nothing was changed: try again "
            "in a moment, or ask the support team."
        )
        return render(request, "portal/cancel.html", context, status=409)
    if done.status not in (ActionRequest.Status.SUCCEEDED, ActionRequest.Status.RUNNING):
        context["problem"] = _(
            "The payment provider did not cancel your subscription. Ask the support team."
        )
        return render(request, "portal/cancel.html", context, status=409)
    return redirect(reverse("portal:history") + "?cancelled=1")


@require_http_methods(["GET", "POST"])
@customer_page
@session_person
def subscription_pause(
    request: HttpRequest, person_id: int, subscription_id: int, action: str
) -> HttpResponse:
    """Pause or resume a subscription: a page saying what happens with one confirm button,
    then it is done once (the form's key makes a second submission find the first request)."""
    kind = subscriptions.PAUSE_KINDS.get(action)
    if kind is None:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    person = get_object_or_404(Person, pk=person_id)
    key = str(request.POST.get("key") or "")[:400]
    context: dict[str, Any] = {
        "person": person,
        "action": action,
        "languages": settings.LANGUAGES,
    }
    replay = request.method == "POST" and bool(key) and subscriptions.key_used(key) is not None
    if not replay:
        try:
            context["found"] = subscriptions.pausable_get(
                person_id=person_id, subscription_pk=subscription_id, kind=kind
            )[0]
        except NotFound:
            return render(request, "portal/refused.html", {"why": "missing"}, status=404)
        except NotAllowed:
            context["not_here"] = True
            return render(request, "portal/pause.html", context, status=409)
    if request.method != "POST":
        context["key"] = subscriptions.form_key()
        return render(request, "portal/pause.html", context)
    context["key"] = key
    if not key:
        context["problem"] = _("This form has expired: open it again.")
        return render(request, "portal/pause.html", context, status=400)
    try:
        done = subscriptions.subscription_pause(
            person=person, subscription_pk=subscription_id, kind=kind, key=key, ip=_ip(request)
        )
    except NotFound:
        return render(request, "portal/refused.html", {"why": "missing"}, status=404)
    except (UserFacingError, OperationalError):
        context["problem"] = _(
            "Your subscription could not be changed just now. Nothing was changed: try again "
            "in a moment, or ask the support team."
        )
        return render(request, "portal/pause.html", context, status=409)
    if done.status not in (ActionRequest.Status.SUCCEEDED, ActionRequest.Status.RUNNING):
        context["problem"] = _(
            "The payment provider did not change your subscription. Ask the support team."
        )
        return render(request, "portal/pause.html", context, status=409)
    return redirect(
        reverse("portal:history") + ("?paused=1" if action == "pause" else "?resumed=1")
    )
