"""Agent-facing access to documents: PDF download, resend, and a JSON list per person.

Authentication is the agent's session, with their role (any signed-in agent may read;
resending needs the agent role and is audited); scoped API keys arrive with the API work
(capability 11), and these endpoints will accept them then. Views parse, call one
service or selector, and render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billingdesk.accounts.models import Role
from billingdesk.accounts.selectors import role_at_least, role_of
from billingdesk.actions.audit import audit_record
from billingdesk.billing.models import Person
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.documents.models import Document
from billingdesk.documents.selectors import document_summary, documents_for_person
from billingdesk.documents.tasks import document_send_task

View = Callable[..., HttpResponse]


def role_required(role: Role) -> Callable[[View], View]:
    """Signed-in agents with at least ``role``; others get a JSON 401/403, not a redirect."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return JsonResponse({"error": "authentication required"}, status=401)
            if not role_at_least(request.user, role):
                return JsonResponse({"error": f"needs the {role.label} role"}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@require_GET
@role_required(Role.READ_ONLY)
def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    return pdf_response(get_object_or_404(Document, pk=document_id))


def pdf_response(document: Document) -> HttpResponse:
    """A document's PDF as a download; shared with the customer billing pages."""
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@role_required(Role.AGENT)
def document_resend(request: HttpRequest, document_id: int) -> HttpResponse:
    """Queue an email of the document to the customer (ignores the receipt opt-out)."""
    document = get_object_or_404(Document, pk=document_id)
    with transaction.atomic():
        enqueue_on_commit(document_send_task, document.pk, automatic=False)
        audit_record(
            actor=request.user if isinstance(request.user, User) else None,
            action="document_resend",
            result="queued",
            person_id=document.person_id,
            target_kind="document",
            target_id=document.number,
            ip=request.META.get("REMOTE_ADDR"),
        )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        messages.success(request, f"{document.number} will be emailed to the customer again.")
        return redirect(back)
    return JsonResponse({"queued": True, "document": document.number}, status=202)


@require_GET
@role_required(Role.READ_ONLY)
def person_documents_api(request: HttpRequest, person_id: int) -> HttpResponse:
    if not Person.objects.filter(pk=person_id).exists():
        return JsonResponse({"error": f"no person {person_id}"}, status=404)
    documents = [document_summary(d) for d in documents_for_person(person_id=person_id)]
    return JsonResponse({"person": person_id, "documents": documents})


@require_GET
@role_required(Role.READ_ONLY)
def person_documents_page(request: HttpRequest, person_id: int) -> HttpResponse:
    """The documents of one person, in the console's look (its navigation, its styles)."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(
            _("No person %(id)s: merged into another, or never existed.") % {"id": person_id}
        )
    context = {
        "person": person,
        "documents": documents_for_person(person_id=person_id),
        "role": role_of(request.user),
    }
    return render(request, "documents/person_documents.html", context)
