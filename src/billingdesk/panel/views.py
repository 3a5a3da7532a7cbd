"""The agent console (search, person page, approvals) and the compact panel.

Views parse the request, call one selector or service, and render. Pages are server-rendered;
the action forms are htmx fragments (see ``action_views``).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.models import ActionRequest
from billingdesk.actions.services import approval_decide, request_outcome
from billingdesk.core.errors import InvalidRequest, NotFound, OperationalError, UserFacingError
from billingdesk.core.labels import choices as label_choices
from billingdesk.documents.selectors import documents_for_person
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.formatting import money_display
from billingdesk.panel.offers import offer_actions
from billingdesk.panel.render import charge_rows_html, panel_page, panel_parts, panel_version
from billingdesk.panel.search_filters import SUBSCRIPTION_STATUSES, parse_search_filters
from billingdesk.panel.selectors import (
    PANEL_ROWS,
    PERSON_PAGE_ROWS,
    PanelData,
    SearchResult,
    charges_older,
    documents_first,
    panel_data,
    panel_data_of_charges,
    pending_approvals,
    person_search,
)

# Narrowing a search (``search_filters``): the query string's names.
SEARCH_FILTERS = ("status", "charged_from", "charged_to")


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    """The search box, and the persons found for what was typed."""
    query = request.GET.get("q")
    account = request.GET.get("account") or ""
    narrowing = {name: request.GET.get(name, "")[:40] for name in SEARCH_FILTERS}
    result: SearchResult | None = None
    error = ""
    if query is not None:
        try:
            filters = parse_search_filters(
                narrowing["status"], narrowing["charged_from"], narrowing["charged_to"]
            )
            result = person_search(
                query, page=_page_number(request), account_id=account or None, filters=filters
            )
        except InvalidRequest as exc:
            error = exc.message
    return render(
        request,
        "panel/console.html",
        {
            "query": query or "",
            "result": result,
            "error": error,
            "account": account,
            "accounts": GatewayAccount.objects.order_by("name").values_list("pk", "name"),
            "page_links": _search_pages(query or "", account, result, narrowing),
            "narrowing": narrowing,
            "subscription_statuses": label_choices(SUBSCRIPTION_STATUSES),
        },
        status=400 if error else 200,
    )


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page") or "1"
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidRequest(f"{raw!r} is not a page number.")
    return int(raw)


def _search_pages(
    query: str, account: str, result: SearchResult | None, narrowing: dict[str, str]
) -> dict[str, str]:
    """Links to the previous and next pages of results ('' where there is none)."""
    links = {"previous": "", "next": ""}
    if result is None:
        return links
    base = {"q": query, **({"account": account} if account else {})}
    base.update({name: value for name, value in narrowing.items() if value})
    if result.page > 1:
        links["previous"] = "?" + urlencode({**base, "page": result.page - 1})
    if result.page < result.pages:
        links["next"] = "?" + urlencode({**base, "page": result.page + 1})
    return links


@login_required
@require_GET
def person_page(request: HttpRequest, person_id: int) -> HttpResponse:
    """Everything about one person, full lists."""
    data = _person_or_404(person_id, limit=PERSON_PAGE_ROWS, full=True)
    role = offer_actions(request, data)
    documents = documents_for_person(person_id=person_id)[:PERSON_PAGE_ROWS]
    return render(
        request,
        "panel/person.html",
        {
            "data": data,
            "role": role,
            "back": _here(request),
            "documents": documents,
            "documents_first": documents_first(documents),
        },
    )


@login_required
@require_GET
def panel(request: HttpRequest, person_id: int) -> HttpResponse:
    """The compact view of one person, for a 350 px helpdesk sidebar: one request."""
    data = _person_or_404(person_id, limit=PANEL_ROWS, full=False, documents=True)
    role = offer_actions(request, data)
    # Rendered in Python (see ``panel.render``): the template engine was most of its time.
    return HttpResponse(panel_page(request, data, role=role, back=_here(request)))


@login_required
@require_GET
def panel_fresh(request: HttpRequest, person_id: int) -> HttpResponse:
    """Polled by an open panel: 204 while what it shows is unchanged (digest ``v``), else an
    ``HX-Refresh`` so it reloads with the result of the background work or webhook."""
    data = _person_or_404(person_id, limit=PANEL_ROWS, full=False, documents=True)
    role = offer_actions(request, data)
    back = quote(request.GET.get("back", "")[:2000], safe="")
    version = panel_version(*panel_parts(request, data, role=role, back=back))
    if request.GET.get("v", "") == version:
        return HttpResponse(status=204)
    response = HttpResponse("")
    response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def panel_charges(request: HttpRequest, person_id: int) -> HttpResponse:
    """Older charges of the person (``before``: a charge id), or those matching ``q``, as
    rows for the panel's charge list."""
    before = request.GET.get("before") or None
    if before is not None and (not before.isdigit() or len(before) > 18):
        return HttpResponse(f"{before[:30]!r} is not a charge.", status=400)
    text = (request.GET.get("q") or "").strip()[:100]
    try:
        section = charges_older(
            person_id, before=int(before) if before else None, text=text, limit=PANEL_ROWS
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
    data = panel_data_of_charges(person_id, section)
    offer_actions(request, data)
    back = quote(request.GET.get("back", "")[:2000], safe="")
    return HttpResponse(charge_rows_html(data, section, back=back, searched=bool(text)))


def _here(request: HttpRequest) -> str:
    """This page's address, for the action forms' "back" (quoted once, not per button)."""
    return quote(request.get_full_path(), safe="")


def _person_or_404(person_id: int, *, limit: int, full: bool, documents: bool = False) -> PanelData:
    try:
        return panel_data(person_id, limit=limit, full=full, documents=documents)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """Refunds above an agent's limit, waiting for finance; and the latest decisions."""
    role = role_of(request.user)
    if ROLE_RANK[role] < ROLE_RANK[Role.AGENT]:
        return render(
            request,
            "panel/forbidden.html",
            {"message": _("Only finance or an admin can see approval requests.")},
            status=403,
        )
    if ROLE_RANK[role] < ROLE_RANK[Role.FINANCE]:
        # An agent sees their own requests: what waits for finance, and what was decided.
        mine = pending_approvals(requested_by=request.user)
        context = {"approvals": mine, "role": role, "mine": True}
        return render(request, "panel/approvals.html", context)
    return render(request, "panel/approvals.html", {"approvals": pending_approvals(), "role": role})


@login_required
@require_POST
def approval_decision(request: HttpRequest, request_id: int) -> HttpResponse:
    decision = request.POST.get("decision")
    if decision not in ("approve", "deny"):
        messages.error(request, _("Choose to approve or deny the request."))
        return redirect("console-approvals")
    try:
        action = approval_decide(
            user=request.user,
            request_id=request_id,
            approve=decision == "approve",
            reason=request.POST.get("reason", "")[:2000],
            ip=request.META.get("REMOTE_ADDR"),
        )
    except (UserFacingError, OperationalError) as exc:
        messages.error(request, _plain(exc))
        return redirect("console-approvals")
    if action.status == ActionRequest.Status.DENIED:
        messages.success(request, _("Request #%(id)s denied.") % {"id": action.pk})
    elif action.status == ActionRequest.Status.SUCCEEDED:
        messages.success(request, _("Request #%(id)s approved and done.") % {"id": action.pk})
    else:
        level, text = request_outcome(action, money=money_display)
        getattr(messages, level)(
            request, _("Request #%(id)s: %(outcome)s") % {"id": action.pk, "outcome": text}
        )
    return redirect("console-approvals")


def _plain(exc: UserFacingError | OperationalError) -> str:
    if isinstance(exc, OperationalError):
        return _("The gateway did not answer (%(why)s). Nothing was changed; try again.") % {
            "why": exc.message
        }
    return exc.message
