"""The three steps of an action from the panel or the console, as htmx fragments.

1. ``action_form`` (GET): the action's fields, and an idempotency key issued for this form;
2. ``action_review`` (POST): the service's preview (the effect in plain lines, what remains,
   whether finance must approve), plus the reason fields and the confirm button. Actions
   whose fields all have defaults (a refund of what remains, a cancellation at the period's
   end) open on this step at once, the fields still editable in it (a change re-previews);
   the reason comes preselected, so one click confirms;
3. ``action_confirm`` (POST): runs it through ``action_submit``. The key travels in the form,
   so the same form posted twice (a double click, a browser retry) acts once.

A refusal or gateway error re-renders the step it belongs to with the message in plain
words; a success reloads the page scrolled to the changed row (``?focus=``) so every
section shows the new state and the message stays in view.
Without htmx the same views answer with full pages and redirects.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.reasons import reason_choices
from billingdesk.actions.rules import period_end_cancel_supported, terminate_refund_supported
from billingdesk.actions.services import (
    TAX_ID_TYPES,
    ActionPreview,
    action_key_issue,
    action_preview,
    action_submit,
    request_outcome,
)
from billingdesk.billing.models import Charge, Coupon, Mirrored
from billingdesk.core.errors import InvalidRequest, OperationalError, UserFacingError
from billingdesk.panel.actionforms import (
    BUTTON_LABELS,
    DEFAULT_REASON,
    EDITABLE_IN_REVIEW,
    PREVIEW_AT_ONCE,
    TARGET_MODELS,
    TypedParams,
    action_kind,
    minor_to_text,
    params_read,
)
from billingdesk.panel.formatting import money_display
from billingdesk.panel.tax_ids import seller_with_tax_id, tax_type_default


def _target(target_kind: str, target_id: int) -> Mirrored:
    model = TARGET_MODELS.get(target_kind)
    if model is None:
        raise Http404(_("No such record."))
    row = model._default_manager.select_related("account").filter(pk=target_id).first()
    if row is None:
        raise Http404(_("No such record."))
    return row


def _kind_or_404(value: str) -> ActionKind:
    try:
        return action_kind(value)
    except InvalidRequest as exc:
        raise Http404(exc.message) from None


def _back(request: HttpRequest) -> str:
    """The page the action was started from (only ever a page of this site)."""
    back = request.POST.get("back") or request.GET.get("back") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return back


def _context(
    request: HttpRequest, kind: ActionKind, target: Mirrored, target_kind: str, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "label": _(ActionKind(kind).label),
        "button": str(BUTTON_LABELS.get(kind, kind)),
        "target": target,
        "target_kind": target_kind,
        "slot": f"slot-{target_kind}-{target.pk}",
        "back": _back(request),
        "reason_codes": reason_choices(kind),
        "text_required": kind in settings.ACTION_REASON_TEXT_REQUIRED,
        "tax_types": sorted((code, _(name)) for code, name in TAX_ID_TYPES.items()),
        # Braintree, for one, cancels at once: the form then offers only "now".
        "period_end_supported": kind is ActionKind.CANCEL_SUBSCRIPTION
        and period_end_cancel_supported(target),
        # Recurly, for one, can refund while ending a subscription now.
        "terminate_refund_supported": kind is ActionKind.CANCEL_SUBSCRIPTION
        and terminate_refund_supported(target),
        **extra,
    }


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A fragment for htmx; the same fragment inside a page otherwise."""
    if request.headers.get("HX-Request") != "true":
        context = {**context, "fragment": template}
        template = "panel/action_page.html"
    # htmx swaps only 2xx responses by default; the status stays 200 so the message shows.
    return render(request, template, context, status=status)


@login_required
@require_GET
def action_form(request: HttpRequest, kind: str, target_kind: str, target_id: int) -> HttpResponse:
    action = _kind_or_404(kind)
    target = _target(target_kind, target_id)
    typed: dict[str, str] = {}
    if isinstance(target, Charge) and action in (ActionKind.REFUND, ActionKind.CAPTURE):
        left = target.refundable if action is ActionKind.REFUND else target.amount
        typed["amount"] = minor_to_text(left, target.currency)
    period_end = action is ActionKind.CANCEL_SUBSCRIPTION and period_end_cancel_supported(target)
    if action is ActionKind.CANCEL_SUBSCRIPTION:
        typed["when"] = "period_end" if period_end else "now"
    if action in (ActionKind.PAYMENT_REQUEST, ActionKind.AUTHORIZE):
        typed["currency"] = getattr(target, "currency", "") or target.account.default_currency
    if action is ActionKind.ADD_TAX_ID:
        typed["tax_type"] = tax_type_default(target)
    key = action_key_issue(user=request.user)
    refusal = _quick_refusal(request, action, target)
    if action in PREVIEW_AT_ONCE and not refusal:
        # Nothing the agent must type: straight to the effect, the reason and one confirm.
        read = params_read(action, target, typed)
        preview = action_preview(user=request.user, kind=action, target=target, params=read.params)
        if preview.allowed:
            return _confirm(request, action, target, target_kind, key, read, preview)
        refusal = preview.refusal
    return _render(
        request,
        "panel/action/form.html",
        _context(
            request,
            action,
            target,
            target_kind,
            key=key,
            typed=typed,
            coupons=_coupons(action, target),
            refusal=refusal,
        ),
    )


def _coupons(action: ActionKind, target: Mirrored) -> list[Coupon]:
    if action not in (ActionKind.APPLY_COUPON, ActionKind.CREATE_SUBSCRIPTION):
        return []
    return list(
        Coupon.objects.filter(account_id=target.account_id, valid=True, deleted=False).order_by(
            "name"
        )[:100]
    )


def _quick_refusal(request: HttpRequest, action: ActionKind, target: Mirrored) -> str:
    """Refuse at once what can never run here (read-only role, unsupported, wrong state)."""
    if action in (ActionKind.REFUND, ActionKind.CAPTURE, ActionKind.VOID):
        preview = action_preview(user=request.user, kind=action, target=target, params={})
        return "" if preview.allowed else preview.refusal
    return ""


def _read(request: HttpRequest, action: ActionKind, target: Mirrored) -> TypedParams | str:
    try:
        return params_read(action, target, request.POST)
    except InvalidRequest as exc:
        return exc.message


@login_required
@require_POST
def action_review(
    request: HttpRequest, kind: str, target_kind: str, target_id: int
) -> HttpResponse:
    action = _kind_or_404(kind)
    target = _target(target_kind, target_id)
    key = request.POST.get("key", "")
    read = _read(request, action, target)
    if isinstance(read, str):
        return _form_again(request, action, target, target_kind, key, read)
    preview = action_preview(user=request.user, kind=action, target=target, params=read.params)
    if not preview.allowed:
        return _form_again(request, action, target, target_kind, key, preview.refusal, read)
    return _confirm(request, action, target, target_kind, key, read, preview)


def _confirm(
    request: HttpRequest,
    action: ActionKind,
    target: Mirrored,
    target_kind: str,
    key: str,
    read: TypedParams,
    preview: ActionPreview,
    *,
    error: str = "",
    note: str = "",
) -> HttpResponse:
    """The confirm step: the preview's effect, the reason, the submit button."""
    return _render(
        request,
        "panel/action/confirm.html",
        _context(
            request,
            action,
            target,
            target_kind,
            key=key,
            typed=read.typed,
            preview=preview,
            amount=_preview_amount(preview),
            reason_code=_reason_code(request),
            reason_text=request.POST.get("reason_text", ""),
            editable=EDITABLE_IN_REVIEW.get(action, ()),
            warnings=_warnings(action, target, read),
            error=error,
            note=note,
        ),
    )


def _reason_code(request: HttpRequest) -> str:
    """The reason posted, else the one the button suggested (``?reason=duplicate``), else
    "requested by the customer": an agent acts from the customer's ticket."""
    codes = dict(settings.ACTION_REASON_CODES)
    for value in (request.POST.get("reason_code"), request.GET.get("reason")):
        if value is not None and (value in codes or value == ""):
            return value
    return DEFAULT_REASON if DEFAULT_REASON in codes else ""


def _warnings(action: ActionKind, target: Mirrored, read: TypedParams) -> list[str]:
    """What the agent should look at twice before confirming."""
    if action is ActionKind.ADD_TAX_ID:
        seller = seller_with_tax_id(str(read.params.get("value", "")))
        if seller:
            return [
                _(
                    "This is the VAT number of %(seller)s, the seller: the customer's own "
                    "number is on their invoice or order, not ours."
                )
                % {"seller": seller}
            ]
    return []


def _form_again(
    request: HttpRequest,
    action: ActionKind,
    target: Mirrored,
    target_kind: str,
    key: str,
    error: str,
    read: TypedParams | None = None,
) -> HttpResponse:
    typed = read.typed if read else {k: str(v) for k, v in request.POST.items() if k != "key"}
    return _render(
        request,
        "panel/action/form.html",
        _context(
            request,
            action,
            target,
            target_kind,
            key=key or action_key_issue(user=request.user),
            typed=typed,
            coupons=_coupons(action, target),
            error=error,
        ),
    )


def _preview_amount(preview: ActionPreview) -> str:
    return money_display(preview.amount.amount, preview.amount.currency) if preview.amount else ""


@login_required
@require_POST
def action_confirm(
    request: HttpRequest, kind: str, target_kind: str, target_id: int
) -> HttpResponse:
    action = _kind_or_404(kind)
    target = _target(target_kind, target_id)
    key = request.POST.get("key", "")
    read = _read(request, action, target)
    if isinstance(read, str):
        return _form_again(request, action, target, target_kind, key, read)
    if _changed_since_preview(request, read):
        # The agent edited a field and confirmed before seeing its effect: show it first.
        preview = action_preview(user=request.user, kind=action, target=target, params=read.params)
        if not preview.allowed:
            return _form_again(request, action, target, target_kind, key, preview.refusal, read)
        note = _("You changed the action: check its effect, then confirm again.")
        return _confirm(request, action, target, target_kind, key, read, preview, note=note)
    try:
        done = action_submit(
            user=request.user,
            kind=action,
            target=target,
            params=read.params,
            reason_code=request.POST.get("reason_code", ""),
            reason_text=request.POST.get("reason_text", "")[:4000],
            idempotency_key=key,
            ip=request.META.get("REMOTE_ADDR"),
        )
    except (UserFacingError, OperationalError) as exc:
        message = (
            _("The gateway did not answer (%(why)s). Nothing was changed; try again.")
            % {"why": exc.message}
            if isinstance(exc, OperationalError)
            else exc.message
        )
        target.refresh_from_db()
        preview = action_preview(user=request.user, kind=action, target=target, params=read.params)
        if not preview.allowed:
            return _form_again(request, action, target, target_kind, key, message, read)
        return _confirm(request, action, target, target_kind, key, read, preview, error=message)
    return _done(request, done, action, target, target_kind)


def _changed_since_preview(request: HttpRequest, read: TypedParams) -> bool:
    """True when a field differs from the value the confirm step previewed (a post without
    the previewed values, from another client, is taken as confirmed as posted)."""
    return any(
        request.POST.get(f"previewed_{name}", value) != value for name, value in read.typed.items()
    )


def _done(
    request: HttpRequest,
    done: ActionRequest,
    action: ActionKind,
    target: Mirrored,
    target_kind: str,
) -> HttpResponse:
    # ``request_outcome`` says what the request really is: done, being processed by the
    # other of two submissions of this form, awaiting approval, or failed and why.
    level, text = request_outcome(done, money=money_display)
    if level == "error":
        # A replayed form whose first submission failed or was denied: say so, act no more.
        return _render(
            request,
            "panel/action/result.html",
            _context(request, action, target, target_kind, error=text),
        )
    {"success": messages.success, "info": messages.info, "warning": messages.warning}[level](
        request, text
    )
    if done.status == ActionRequest.Status.SUCCEEDED and done.url:
        messages.info(request, _("Link for the customer: %(url)s") % {"url": done.url})
    # The page comes back scrolled to the changed row, its message beside it (panel.js).
    back = _back(request)
    focused = _with_focus(back, f"{target_kind}-{target.pk}") if back else ""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse("")
        if focused:
            response["HX-Redirect"] = focused
        else:
            response["HX-Refresh"] = "true"
        return response
    return HttpResponseRedirect(focused or reverse("console"))


def _with_focus(url: str, row: str) -> str:
    """``url`` with ``focus=<row>`` (replacing one already there)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "focus"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("focus", row)]), fragment=""))
