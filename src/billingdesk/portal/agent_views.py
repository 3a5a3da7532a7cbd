"""The agent's side of the billing link: from the console's person page or a helpdesk sidebar
(opened in a first-party window, where the agent's billingdesk session applies), an agent
makes a link to paste into a ticket, emails it to one of the person's addresses, or revokes
every link. Each is written to the audit log. Read-only agents may not.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.accounts.throttle import client_ip
from billingdesk.actions.audit import audit_record
from billingdesk.billing.models import Person
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.portal import services
from billingdesk.portal.account import customers_of
from billingdesk.portal.tasks import portal_link_email_task


def person_addresses(person: Person) -> list[str]:
    """The addresses a link may be emailed to: the person's own, each once."""
    found = [person.primary_email]
    found += [e.email for e in person.emails.order_by("pk")]
    found += [c.email for c in customers_of(person.pk)]
    return list(dict.fromkeys(a.strip() for a in found if a and a.strip()))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer would make form posts "Origin: null"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def agent_link(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=person_id)
    if ROLE_RANK[role_of(request.user)] < ROLE_RANK[Role.AGENT]:
        response = render(request, "portal/agent_link.html", {"person": person, "refused": True})
        response.status_code = 403
        return _no_store(response)
    addresses = person_addresses(person)
    context: dict[str, object] = {
        "person": person, "addresses": addresses, "languages": settings.LANGUAGES,
    }  # fmt: skip
    status = 200
    if request.method == "POST":
        what = request.POST.get("do", "")
        ip = client_ip(request) or None
        user = request.user if request.user.is_authenticated else None

        def audit(action: str, detail: str) -> None:
            audit_record(
                actor=user, action=action, result="succeeded", person_id=person.pk,
                detail=detail, ip=ip,
            )  # fmt: skip

        if what == "copy":
            context["link"] = services.portal_link_create(person=person)
            audit("portal_link_create", "link shown to the agent to copy")
        elif what == "send" and request.POST.get("to", "") in addresses:
            to = request.POST["to"]
            language = request.POST.get("language", "")
            if language not in dict(settings.LANGUAGES):
                language = translation.get_language() or settings.LANGUAGE_CODE
            enqueue_on_commit(portal_link_email_task, to, language, person.pk)
            audit("portal_link_send", f"link emailed to {to}")
            context["sent_to"] = to
        elif what == "revoke":
            services.portal_link_revoke(person=person)
            audit("portal_link_revoke", "every billing link revoked")
            context["revoked"] = True
        else:
            context["problem"] = True
            status = 400
    return _no_store(render(request, "portal/agent_link.html", context, status=status))
