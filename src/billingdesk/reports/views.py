"""The reports' pages and CSV exports, for finance and admins.

Each view parses its filters (a form: a bad value answers 400 with the reason), calls one
selector and renders it as a page or streams it as CSV. Pages are in the agent's language
(``?lang=`` or the browser's), amounts and dates written by Babel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import wraps
from typing import Any

from babel.dates import format_skeleton
from babel.numbers import format_percent
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billingdesk.accounts.models import Role
from billingdesk.accounts.selectors import role_at_least
from billingdesk.core.errors import InvalidRequest
from billingdesk.core.html import SafeString
from billingdesk.core.labels import label
from billingdesk.core.money import active_locale, day_format, money_format
from billingdesk.reports.charts import bar_chart
from billingdesk.reports.export import Sheet, audit_csv, csv_response, major, xlsx_response
from billingdesk.reports.forms import (
    AuditForm,
    InvoiceStatusForm,
    PeriodForm,
    RevenueForm,
    form_errors,
)
from billingdesk.reports.selectors.agents import (
    AgentRefunds,
    RefundReason,
    actions_by_agent,
    audit_entries,
    audit_last_check,
    audit_page,
    disputes_by_account,
    refunds_by_agent,
    refunds_by_reason,
)
from billingdesk.reports.selectors.invoices import invoice_status_summary, invoices_of_status
from billingdesk.reports.selectors.returns import TaxReturn, tax_returns
from billingdesk.reports.selectors.revenue import RevenueReport, RevenueRow, revenue_report
from billingdesk.reports.selectors.subscriptions import (
    MrrPoint,
    movement_report,
    mrr_report,
    mrr_series,
    upcoming_renewals,
)
from billingdesk.reports.selectors.tax import TaxSummary, tax_summary

View = Callable[..., HttpResponseBase]
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def finance_required(view: View) -> View:
    """Signed-in finance agents and admins; others get a styled 403 (anonymous: the login)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response: HttpResponseBase
        with translation.override(_language(request)):
            if not role_at_least(request.user, Role.FINANCE):
                message = _("Reports are for the finance role and administrators.")
                response = render(request, "reports/refused.html", {"message": message}, status=403)
            else:
                response = view(request, *args, **kwargs)
            response["Content-Language"] = translation.get_language() or "en"
            return response

    return wrapper


def _refused(
    request: HttpRequest, template: str, reasons: list[str], **context: Any
) -> HttpResponseBase:
    return render(request, template, {**context, "errors": reasons}, status=400)


def _percent(value: Fraction | None) -> str:
    if value is None:
        return "-"
    return format_percent(
        Decimal(value.numerator) / Decimal(value.denominator), "#,##0.0%", locale=active_locale()
    )


def bucket_label(bucket: date | None, group: str) -> str:
    if bucket is None:
        return _("Total")
    if group == "month":
        return format_skeleton("yMMMM", bucket, locale=active_locale())
    if group == "week":
        return _("week of %(day)s") % {"day": day_format(bucket)}
    return day_format(bucket)


@require_GET
@finance_required
def reports_home(request: HttpRequest) -> HttpResponseBase:
    return render(request, "reports/home.html", {})


def _revenue(request: HttpRequest) -> tuple[RevenueForm, RevenueReport | None, list[str]]:
    form = RevenueForm(request.GET)
    if not form.is_valid():
        return form, None, form_errors(form)
    data = form.cleaned_data
    try:
        report = revenue_report(
            start=data["start"],
            end=data["end"],
            group=data["group"],
            by=data["by"] or "",
            account=data["account"],
            currency=data["currency"],
            product=data["product"],
            convert_to=data["convert"],
        )
    except InvalidRequest as exc:
        return form, None, [exc.message]
    return form, report, []


@require_GET
@finance_required
def revenue_page(request: HttpRequest) -> HttpResponseBase:
    form, report, errors = _revenue(request)
    if report is None:
        return _refused(request, "reports/revenue.html", errors, form=form)
    for row in [*report.rows, *report.converted]:
        row.label = bucket_label(row.bucket, report.group)  # type: ignore[attr-defined]
    charts = [(currency, _net_chart(report, currency)) for currency in report.currencies]
    return render(
        request,
        "reports/revenue.html",
        {"form": form, "report": report, "charts": charts, "query": request.GET.urlencode()},
    )


def _net_chart(report: RevenueReport, currency: str) -> SafeString:
    """Net per period of one currency (all splits added: same currency)."""
    net: dict[date, int] = {}
    for row in report.rows:
        if row.currency == currency and row.bucket is not None:
            net[row.bucket] = net.get(row.bucket, 0) + row.net
    buckets = sorted(net)
    return bar_chart(
        title=_("Net revenue in %(currency)s per period") % {"currency": currency},
        labels=[bucket_label(b, report.group) for b in buckets],
        values=[net[b] for b in buckets],
        shown=[money_format(net[b], currency) for b in buckets],
    )


REVENUE_HEADER = [
    "period_start",
    "group",
    "split",
    "currency",
    "converted",
    "charges",
    "gross_minor",
    "refunds_minor",
    "disputes_lost_minor",
    "net_minor",
    "gross",
    "refunds",
    "disputes_lost",
    "net",
]


def _revenue_rows(report: RevenueReport) -> Iterator[list[Any]]:
    def line(row: RevenueRow, converted: bool) -> list[Any]:
        c = row.currency
        return [
            row.bucket.isoformat() if row.bucket else "total",
            report.group,
            row.key,
            c,
            converted,
            row.charges,
            row.gross,
            row.refunds,
            row.disputes_lost,
            row.net,
            major(row.gross, c),
            major(row.refunds, c),
            major(row.disputes_lost, c),
            major(row.net, c),
        ]

    for row in report.rows:
        yield line(row, False)
    for row in report.totals:
        yield line(row, False)
    for row in report.converted:
        yield line(row, True)
    for row in report.converted_totals:
        yield line(row, True)


@require_GET
@finance_required
def revenue_csv(request: HttpRequest) -> HttpResponseBase:
    _form, report, errors = _revenue(request)
    if report is None:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    name = f"revenue-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return csv_response(name, REVENUE_HEADER, _revenue_rows(report))


@require_GET
@finance_required
def subscriptions_page(request: HttpRequest) -> HttpResponseBase:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _refused(request, "reports/subscriptions.html", form_errors(form), form=form)
    mrr = mrr_report()
    moves = movement_report(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    series = mrr_series(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    churn = [
        {"move": m, "logo": _percent(m.logo_churn), "revenue": _percent(m.revenue_churn)}
        for m in moves.movements
    ]
    return render(
        request,
        "reports/subscriptions.html",
        {
            "form": form,
            "mrr": mrr,
            "arr": mrr.arr,
            "moves": moves,
            "churn": churn,
            "renewals": upcoming_renewals(),
            "series": series,
            "series_charts": _mrr_charts(series),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@finance_required
def subscriptions_csv(request: HttpRequest) -> HttpResponseBase:
    mrr = mrr_report()
    header = ["plan", "currency", "subscriptions", "mrr_minor", "arr_minor", "mrr", "arr"]
    rows = (
        [
            p.plan,
            p.currency,
            p.subscriptions,
            p.mrr,
            p.mrr * 12,
            major(p.mrr, p.currency),
            major(p.mrr * 12, p.currency),
        ]
        for p in mrr.plans
    )
    return csv_response(f"mrr-{mrr.at.date().isoformat()}.csv", header, rows)


@require_GET
@finance_required
def tax_page(request: HttpRequest) -> HttpResponseBase:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _refused(request, "reports/tax.html", form_errors(form), form=form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return render(
        request,
        "reports/tax.html",
        {
            "form": form,
            "summary": tax_summary(start=start, end=end),
            "returns": tax_returns(start=start, end=end),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@finance_required
def tax_csv(request: HttpRequest) -> HttpResponseBase:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(form_errors(form)), status=400, content_type="text/plain; charset=utf-8"
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    if "return" in request.GET:  # one UK / AU / IN return, by its legal entity's id
        wanted = request.GET["return"]
        for r in tax_returns(start=start, end=end):
            if str(r.entity_id) == wanted:
                name = f"{r.country.lower()}-return-{start}-{end}.csv"
                return csv_response(name, RETURN_HEADER, _return_rows(r))
        return HttpResponse(
            _("No UK, Australian or Indian return for this legal entity in this period."),
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    summary = tax_summary(start=start, end=end)
    only_oss = request.GET.get("oss") == "1"
    lines = summary.oss() if only_oss else summary.lines
    kind = "oss" if only_oss else "tax"
    return csv_response(f"{kind}-{summary.start}-{summary.end}.csv", TAX_HEADER, _tax_rows(lines))


TAX_HEADER = [
    "regime",
    "tax_country",
    "treatment",
    "currency",
    "tax_name",
    "percent",
    "taxable_minor",
    "tax_minor",
    "taxable",
    "tax",
    "documents",
    "credit_notes",
]


def _tax_rows(lines: list[Any]) -> Iterator[list[Any]]:
    return (
        [
            t.regime,
            t.tax_country,
            t.treatment,
            t.currency,
            t.name,
            t.percent,
            t.taxable,
            t.tax,
            major(t.taxable, t.currency),
            major(t.tax, t.currency),
            t.documents,
            t.credit_notes,
        ]
        for t in lines
    )


RETURN_HEADER = ["box", "label", "currency", "amount_minor", "amount", "note"]


def _return_rows(tax_return: TaxReturn) -> Iterator[list[Any]]:
    for box in tax_return.boxes:
        amount = box.shown_amount
        yield [
            box.code,
            box.label,
            tax_return.currency,
            amount,
            major(amount, tax_return.currency) if amount is not None else None,
            box.note,
        ]


def _tax_sheets(summary: TaxSummary, returns: list[TaxReturn]) -> Iterator[Sheet]:
    totals_header = ["currency", "documents", "credit_notes", "net_minor", "tax_minor",
                     "gross_minor", "net", "tax", "gross"]  # fmt: skip
    yield (
        _("Totals"),
        totals_header,
        (
            [
                t.currency,
                t.documents,
                t.credit_notes,
                t.net,
                t.tax,
                t.gross,
                major(t.net, t.currency),
                major(t.tax, t.currency),
                major(t.gross, t.currency),
            ]
            for t in summary.totals
        ),
    )
    yield _("Tax lines"), TAX_HEADER, _tax_rows(summary.lines)
    yield "OSS", TAX_HEADER, _tax_rows(summary.oss())
    for r in returns:
        yield f"{r.country} {r.entity_id} {r.title}", RETURN_HEADER, _return_rows(r)


@require_GET
@finance_required
def tax_xlsx(request: HttpRequest) -> HttpResponseBase:
    """The tax summary, its OSS lines and each UK/AU/IN return as one workbook."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(form_errors(form)), status=400, content_type="text/plain; charset=utf-8"
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    summary = tax_summary(start=start, end=end)
    sheets = _tax_sheets(summary, tax_returns(start=start, end=end))
    return xlsx_response(f"tax-{start}-{end}.xlsx", sheets)


@require_GET
@finance_required
def refunds_page(request: HttpRequest) -> HttpResponseBase:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _refused(request, "reports/refunds.html", form_errors(form), form=form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = refunds_by_agent(start=start, end=end)
    table = request.GET.get("table", "refunds")
    if request.GET.get("format") == "csv":
        if table not in AGENT_TABLES:
            return HttpResponse(
                _("Unknown table: choose refunds, reasons, actions or disputes."),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        header, lines = AGENT_TABLES[table](rows, start, end)
        return csv_response(f"{table}-{start}-{end}.csv", header, lines)
    reasons = refunds_by_reason(rows)
    disputes = disputes_by_account(start=start, end=end)
    return render(
        request,
        "reports/refunds.html",
        {
            "form": form,
            "rows": rows,
            "reasons": reasons,
            "reason_charts": _reason_charts(reasons),
            "actions": actions_by_agent(start=start, end=end),
            "disputes": [(d, _percent(d.rate)) for d in disputes],
            "query": request.GET.urlencode(),
        },
    )


def _mrr_charts(series: list[MrrPoint]) -> list[tuple[str, SafeString]]:
    """MRR at each month's end, one chart per currency."""
    charts = []
    for currency in sorted({p.currency for p in series}):
        mine = [p for p in series if p.currency == currency]
        charts.append(
            (
                currency,
                bar_chart(
                    title=_("MRR in %(currency)s at the end of each month")
                    % {"currency": currency},
                    labels=[day_format(p.day) for p in mine],
                    values=[p.mrr for p in mine],
                    shown=[money_format(p.mrr, currency) for p in mine],
                ),
            )
        )
    return charts


def _reason_charts(reasons: list[RefundReason]) -> list[tuple[str, SafeString]]:
    """Refunded amount per reason, one chart per currency (amounts never added across)."""
    charts = []
    for currency in sorted({r.currency for r in reasons}):
        mine = [r for r in reasons if r.currency == currency]
        charts.append(
            (
                currency,
                bar_chart(
                    title=_("Refunded in %(currency)s per reason") % {"currency": currency},
                    labels=[label(r.reason) or _("No reason given") for r in mine],
                    values=[r.amount for r in mine],
                    shown=[money_format(r.amount, currency) for r in mine],
                ),
            )
        )
    return charts


def _refund_table(rows: list[AgentRefunds], start: date, end: date) -> tuple[list[str], Any]:
    header = ["agent", "currency", "reason", "requested", "succeeded", "amount_minor", "amount",
              "approval_asked", "approved", "denied"]  # fmt: skip
    return header, (
        [r.agent, r.currency, r.reason, r.requested, r.succeeded, r.amount,
         major(r.amount, r.currency or "EUR"), r.approval_asked, r.approved, r.denied]
        for r in rows
    )  # fmt: skip


def _reason_table(rows: list[AgentRefunds], start: date, end: date) -> tuple[list[str], Any]:
    header = ["currency", "reason", "refunds", "amount_minor", "amount"]
    return header, (
        [r.currency, r.reason, r.count, r.amount, major(r.amount, r.currency)]
        for r in refunds_by_reason(rows)
    )


def _action_table(rows: list[AgentRefunds], start: date, end: date) -> tuple[list[str], Any]:
    header = ["agent", "action", "requested", "succeeded", "failed", "denied", "waiting"]
    return header, (
        [a.agent, a.kind, a.requested, a.succeeded, a.failed, a.denied, a.waiting]
        for a in actions_by_agent(start=start, end=end)
    )


def _dispute_table(rows: list[AgentRefunds], start: date, end: date) -> tuple[list[str], Any]:
    header = ["account_id", "account", "currency", "charges", "disputes", "amount_minor",
              "amount", "won", "lost", "dispute_rate"]  # fmt: skip
    return header, (
        [d.account_id, d.account, d.currency, d.charges, d.opened, d.amount,
         major(d.amount, d.currency), d.won, d.lost,
         _rate(d.rate)]
        for d in disputes_by_account(start=start, end=end)
    )  # fmt: skip


def _rate(rate: Fraction | None) -> Decimal | None:
    if rate is None:
        return None
    return (Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(Decimal("0.000001"))


AGENT_TABLES: dict[str, Callable[[list[AgentRefunds], date, date], tuple[list[str], Any]]] = {
    "refunds": _refund_table,
    "reasons": _reason_table,
    "actions": _action_table,
    "disputes": _dispute_table,
}


@require_GET
@finance_required
def audit_page_view(request: HttpRequest) -> HttpResponseBase:
    form = AuditForm(request.GET)
    if not form.is_valid():
        return _refused(
            request, "reports/audit.html", form_errors(form), form=form, check=audit_last_check()
        )
    data = form.cleaned_data
    entries = audit_entries(
        start=data["start"],
        end=data["end"],
        actor=data["actor"],
        action=data["action"],
        result=data["result"],
        target=data["target"],
        person=data["person"],
        account=data["account"],
    )
    if request.GET.get("format") == "csv":
        return audit_csv(entries)
    page = audit_page(entries, data["page"] or 1)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/audit.html",
        {
            "form": form,
            "page": page,
            "check": audit_last_check(),
            "query": query.urlencode(),
        },
    )


@require_GET
@finance_required
def invoices_page(request: HttpRequest) -> HttpResponseBase:
    form = InvoiceStatusForm(request.GET)
    if not form.is_valid():
        return _refused(request, "reports/invoices.html", form_errors(form), form=form)
    status = form.cleaned_data["status"] or "open"
    invoices = invoices_of_status(status=status)
    if request.GET.get("format") == "csv":
        header = [
            "account",
            "number",
            "gateway_id",
            "status",
            "customer",
            "person_id",
            "currency",
            "total_minor",
            "amount_due_minor",
            "total",
            "amount_due",
            "due_date",
            "created",
        ]
        return csv_response(
            f"invoices-{status}.csv",
            header,
            (
                [
                    i.account.name,
                    i.number,
                    i.gateway_id,
                    i.status,
                    i.customer or i.customer_ref,
                    i.customer.person_id if i.customer else "",
                    i.currency,
                    i.total,
                    i.amount_due,
                    major(i.total, i.currency),
                    major(i.amount_due, i.currency),
                    i.due_date.isoformat() if i.due_date else "",
                    i.gateway_created_at.isoformat() if i.gateway_created_at else "",
                ]
                for i in invoices
            ),
        )
    lines, ages = invoice_status_summary()
    return render(
        request,
        "reports/invoices.html",
        {
            "form": form,
            "status": status,
            "lines": lines,
            "ages": ages,
            "invoices": invoices,
            "query": request.GET.urlencode(),
        },
    )
