"""The dispute screens: finance's list with deadlines, the evidence review page (assemble,
edit the cover text, confirm, submit or accept), and the packet's PDF. Each view parses the
request, calls one service and renders; refusals are shown on the page, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billingdesk.accounts.models import ROLE_RANK, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.actions.keys import action_key_issue
from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.reasons import reason_choices
from billingdesk.actions.services import request_outcome
from billingdesk.billing.models import Dispute
from billingdesk.core.errors import OperationalError, UserFacingError
from billingdesk.core.parsing import parse_id
from billingdesk.disputes.models import DisputeCase, EvidencePacket
from billingdesk.disputes.packet import file_limit, packet_assemble
from billingdesk.disputes.selectors import DISPUTES_LIST, dispute_card
from billingdesk.disputes.services import dispute_accept, dispute_answer_submit, dispute_assign
from billingdesk.gateways.interface import Capability
from billingdesk.gateways.registry import connector_for
from billingdesk.panel.lists import ListFilterError, ListFilters, list_page, parse_filters


def _dispute_or_404(dispute_id: int) -> Dispute:
    dispute = (
        Dispute.objects.select_related("account", "charge__customer")
        .filter(pk=dispute_id, deleted=False)
        .first()
    )
    if dispute is None:
        raise Http404(_("No dispute %(id)s.") % {"id": dispute_id})
    return dispute


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required let only signed-in users in
    return request.user


@login_required
@require_GET
def disputes_list(request: HttpRequest) -> HttpResponse:
    """Finance's list: every dispute with its deadline, filtered and keyset-paged."""
    if ROLE_RANK[role_of(request.user)] < ROLE_RANK[Role.FINANCE]:
        return HttpResponseForbidden(_("The disputes list is for finance."))
    params = request.GET.dict()
    error = ""
    page = None
    try:
        filters = parse_filters(DISPUTES_LIST, params)
        page = list_page(DISPUTES_LIST, filters)
    except ListFilterError as exc:
        error = str(exc)
        filters = ListFilters(raw={k: v for k, v in params.items() if v and k != "after"})
    from urllib.parse import urlencode

    links = {"first": "", "next": ""}
    if page is not None and not page.first:
        links["first"] = request.path + ("?" + urlencode(filters.raw) if filters.raw else "")
    if page is not None and page.next_cursor:
        links["next"] = request.path + "?" + urlencode({**filters.raw, "after": page.next_cursor})
    return render(
        request,
        "disputes/list.html",
        {
            "spec": DISPUTES_LIST,
            "page": page,
            "error": error,
            "filters": filters.raw,
            "statuses": [(code, code) for code in DISPUTES_LIST.statuses],
            "links": links,
        },
        status=400 if error else 200,
    )


def _latest_packet(dispute: Dispute) -> EvidencePacket | None:
    return dispute.packets.defer("pdf").first()


def _answers(dispute: Dispute) -> list[ActionRequest]:
    return list(
        ActionRequest.objects.filter(
            account=dispute.account,
            target_kind="dispute",
            target_id=dispute.gateway_id,
            kind__in=(ActionKind.DISPUTE_SUBMIT, ActionKind.DISPUTE_ACCEPT),
        ).order_by("-created_at")[:10]
    )


def _review(
    request: HttpRequest,
    dispute: Dispute,
    *,
    error: str = "",
    cover: str | None = None,
    status: int = 200,
) -> HttpResponse:
    packet = _latest_packet(dispute)
    user = _user(request)
    role = role_of(user)
    supported = connector_for(dispute.account).supports(Capability.DISPUTE_EVIDENCE)
    context = {
        "dispute": dispute,
        "card": dispute_card(dispute),
        "packet": packet,
        "cover": cover
        if cover is not None
        else (packet.fields.get(packet.cover_field, "") if packet else ""),
        "other_fields": {k: v for k, v in packet.fields.items() if k != packet.cover_field}
        if packet
        else {},
        "error": error,
        "key": action_key_issue(user=user),
        "accept_key": action_key_issue(user=user),
        "submit_reasons": reason_choices(ActionKind.DISPUTE_SUBMIT),
        "accept_reasons": reason_choices(ActionKind.DISPUTE_ACCEPT),
        "can_act": ROLE_RANK[role] >= ROLE_RANK[Role.AGENT] and supported,
        "supported": supported,
        "limit_mb": file_limit(dispute.account) / 1_000_000,
        "answers": _answers(dispute),
        "assignee": DisputeCase.objects.filter(dispute=dispute)
        .values_list("assigned_to__username", flat=True)
        .first(),
    }
    return render(request, "disputes/review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dispute_review(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """GET: the packet for review (assembled on first view). POST: assemble it again."""
    dispute = _dispute_or_404(dispute_id)
    if request.method == "POST" or _latest_packet(dispute) is None:
        if request.method == "POST" and ROLE_RANK[role_of(request.user)] < ROLE_RANK[Role.AGENT]:
            return HttpResponseForbidden(_("Your role is read-only."))
        packet_assemble(dispute=dispute, user=_user(request))
        if request.method == "POST":
            return redirect("dispute-review", dispute_id=dispute.pk)
    return _review(request, dispute)


def _finish(request: HttpRequest, dispute: Dispute, done: ActionRequest) -> HttpResponse:
    level, text = request_outcome(done)
    getattr(messages, level)(request, text)
    return redirect("dispute-review", dispute_id=dispute.pk)


@login_required
@require_POST
def dispute_submit(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = _dispute_or_404(dispute_id)
    packet_id = parse_id(request.POST.get("packet", ""))
    packet = dispute.packets.filter(pk=packet_id).first() if packet_id else None
    cover = request.POST.get("cover_text", "")[:40_000]
    if packet is None:
        return _review(
            request, dispute, error=_("Assemble the packet again: it changed."), status=400
        )
    try:
        done = dispute_answer_submit(
            user=_user(request),
            dispute=dispute,
            packet=packet,
            cover_text=cover,
            reason_code=request.POST.get("reason_code", ""),
            reason_text=request.POST.get("reason_text", "")[:4000],
            confirmed=request.POST.get("confirm") == "final",
            idempotency_key=request.POST.get("key", ""),
            ip=request.META.get("REMOTE_ADDR"),
        )
    except UserFacingError as exc:
        return _review(request, dispute, error=exc.message, cover=cover, status=400)
    except OperationalError as exc:
        message = _("The gateway did not answer (%(why)s). Nothing was sent; try again.") % {
            "why": exc.message
        }
        return _review(request, dispute, error=message, cover=cover, status=503)
    return _finish(request, dispute, done)


@login_required
@require_POST
def dispute_accept_view(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = _dispute_or_404(dispute_id)
    try:
        done = dispute_accept(
            user=_user(request),
            dispute=dispute,
            reason_code=request.POST.get("reason_code", ""),
            reason_text=request.POST.get("reason_text", "")[:4000],
            confirmed=request.POST.get("confirm") == "final",
            idempotency_key=request.POST.get("key", ""),
            ip=request.META.get("REMOTE_ADDR"),
        )
    except UserFacingError as exc:
        return _review(request, dispute, error=exc.message, status=400)
    except OperationalError as exc:
        message = _("The gateway did not answer (%(why)s). Nothing was sent; try again.") % {
            "why": exc.message
        }
        return _review(request, dispute, error=message, status=503)
    return _finish(request, dispute, done)


@login_required
@require_POST
def dispute_assign_view(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Take the dispute (its deadline reminders then come to you too)."""
    dispute = _dispute_or_404(dispute_id)
    if ROLE_RANK[role_of(request.user)] < ROLE_RANK[Role.AGENT]:
        return HttpResponseForbidden(_("Your role is read-only."))
    dispute_assign(dispute=dispute, user=_user(request))
    return redirect("dispute-review", dispute_id=dispute.pk)


@login_required
@require_GET
def packet_pdf(request: HttpRequest, dispute_id: int, packet_id: int) -> HttpResponse:
    packet = EvidencePacket.objects.filter(pk=packet_id, dispute_id=dispute_id).first()
    if packet is None:
        raise Http404(_("No such evidence packet."))
    response = HttpResponse(bytes(packet.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="dispute-{dispute_id}-evidence.pdf"'
    return response
