"""The compact panel and the row lists of a person (the sections) rendered in Python.

A compact panel prints a few hundred values; through Django's template engine each one costs a
variable lookup, a filter call and an autoescape check (~10 µs each on a slow core), which made
the template the largest part of a panel's time. Here each value is escaped once with
``html.escape`` (what Django's ``escape`` does) and the markup is what the old
``panel/panel.html`` and ``panel/rows/*.html`` templates produced. Every value from the mirror
goes through ``_e``: names, descriptions, reasons and ids are customer-controlled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cached_property, lru_cache
from html import escape
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.db.models import Model
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from billingdesk.accounts.models import Role
from billingdesk.actions.models import AuditEntry
from billingdesk.billing.models import Charge, Customer, Dispute, Invoice, Refund, Subscription
from billingdesk.documents.models import Document
from billingdesk.panel.formatting import confidence_band, day, money_display
from billingdesk.panel.selectors import PanelData, Section


def _e(value: Any) -> str:
    """``value`` as HTML text: what ``{{ value }}`` prints (``None`` prints ``None``)."""
    return escape(str(value))


@lru_cache(maxsize=64)
def _labels(model: type[Model], field: str) -> dict[Any, Any]:
    return dict(model._meta.get_field(field).flatchoices)  # type: ignore[union-attr]


def _display(row: Model, field: str) -> str:
    """``row.get_<field>_display()`` without building the choices dict each time."""
    value = getattr(row, field)
    return _e(_labels(type(row), field).get(value, value))


def _truncated(text: str, length: int) -> str:
    """``text|truncatechars:length``."""
    if text.isascii() and len(text) <= length:
        return text
    return Truncator(text).chars(length)


class _Page:
    """What every row of one page is rendered with."""

    def __init__(self, data: PanelData, *, compact: bool, back: str) -> None:
        self.data = data
        self.compact = compact
        self.back = _e(back)
        self.locale = (translation.get_language() or settings.LANGUAGE_CODE).replace("-", "_")
        self.tz = timezone.get_current_timezone()

    def day(self, value: datetime | None) -> str:
        return day(value, self.tz)

    @cached_property
    def console(self) -> str:
        """The person's page in the console (one ``reverse()`` for the page)."""
        return reverse("console-person", args=[self.data.person.pk])

    def money(self, amount: int | None, currency: str) -> str:
        return _e(money_display(amount, currency, locale=self.locale))

    def actions(self, row: Any, kind: str) -> str:
        """The row's action buttons (``row.offered``, set by the view) and their slot."""
        slot = f"slot-{kind}-{row.pk}"
        offered = getattr(row, "offered", None)
        buttons = ""
        if offered:
            buttons = (
                '<div class="acts">'
                + "".join(
                    f'<button type="button" class="small" hx-get="{_e(a.url)}?back={self.back}"'
                    f' hx-target="#{slot}" data-action="{_e(a.kind)}">{_e(a.label)}</button>'
                    for a in offered
                )
                + "</div>"
            )
        awaiting = getattr(row, "awaiting", None)
        if awaiting:  # requests on this row waiting for finance (set by actions_available)
            buttons = (
                "".join(
                    f'<div class="line"><span class="badge s-pending" data-awaiting="{_e(k)}">'
                    f"{_e(text)}</span></div>"
                    for k, text in awaiting
                )
                + buttons
            )
        return f'{buttons}\n    <div class="slot" id="{slot}"></div>'

    def more(self, section: Section[Any], anchor: str) -> str:
        if not section.more:
            return ""
        if self.compact:
            return (
                f'<p><a href="{_e(self.console)}#{anchor}" target="_blank" rel="noopener">'
                f"More {anchor} in the console ↗</a></p>"
            )
        return f'<p class="muted">Showing the latest {self.data.limit}.</p>'


def _rows(rows: Iterable[Any], render: Callable[[Any], str], empty: str) -> str:
    items = [render(row) for row in rows] or [f'<li class="muted">{empty}</li>']
    return '<ul class="rows">\n  ' + "\n  ".join(items) + "\n</ul>"


def _customer(page: _Page, c: Customer) -> str:
    account = c.account
    details = "".join(
        f"<span>{_e(value)}</span>" for value in (c.email, c.name, c.phone, c.country) if value
    )
    dashboard = (
        f' <a href="{_e(account.dashboard_url)}" target="_blank" rel="noopener noreferrer">'
        f"{_e(account.name)} dashboard ↗</a>"
        if account.dashboard_url
        else ""
    )
    return (
        f'<li data-customer="{_e(c.gateway_id)}">\n'
        f'    <div class="line"><strong>{_e(account.name)}</strong> '
        f'<span class="muted">{_e(account.kind)}</span>\n'
        f'      <span class="badge {confidence_band(c.match_confidence)}" title="How this record '
        f'was matched to the person, and how sure the match is">matched by '
        f"{_display(c, 'match_method')} · {_e(c.match_confidence)}%</span>\n"
        + (
            '      <span class="badge" title="Linked by hand: automatic matching leaves it '
            'alone">manual</span>\n'
            if c.match_locked
            else ""
        )
        + ('      <span class="badge s-canceled">deleted</span>' if c.deleted else "")
        + f'</div>\n    <div class="line muted">{details}</div>\n'
        f'    <div class="line"><code>{_e(c.gateway_id)}</code>{dashboard}</div>\n'
        f"    {page.actions(c, 'customer')}\n  </li>"
    )


def _charge(page: _Page, ch: Charge) -> str:
    muted = []
    if ch.amount_refunded:
        muted.append(
            f'<span class="refunded">refunded {page.money(ch.amount_refunded, ch.currency)}</span>'
        )
    if ch.card_last4:
        muted.append(f"<span>{_e(ch.card_brand)} •••• {_e(ch.card_last4)}</span>")
    muted.append(f"<span>{_e(ch.account.name)}</span>")
    if ch.product or ch.description:
        muted.append(f"<span>{_e(_truncated(ch.product or ch.description, 48))}</span>")
    order = f"<code>order {_e(ch.order_id)}</code>" if ch.order_id else ""
    failure = f'<div class="line bad">{_e(ch.failure_message)}</div>' if ch.failure_message else ""
    return (
        f'<li data-charge="{_e(ch.gateway_id)}">\n'
        f'    <div class="line"><span class="amt">{page.money(ch.amount, ch.currency)}</span>\n'
        f'      <span class="badge s-{_e(ch.status)}">{_display(ch, "status")}</span>\n'
        f'      <span class="muted">{page.day(ch.gateway_created_at)}</span></div>\n'
        f'    <div class="line muted">{"".join(muted)}</div>\n'
        f'    <div class="line"><code>{_e(ch.gateway_id)}</code>{order}</div>\n'
        f"    {failure}\n"
        f"    {page.actions(ch, 'charge')}\n  </li>"
    )


def _subscription(page: _Page, sub: Subscription) -> str:
    status = sub.status
    ends = (
        f'<span class="badge s-pending">ends {page.day(sub.current_period_end)}</span>'
        if sub.cancel_at_period_end and status != "canceled"
        else ""
    )
    every = f"{sub.interval_count} " if sub.interval_count > 1 else ""
    times = f" × {sub.quantity}" if sub.quantity > 1 else ""  # noqa: RUF001 - shown as is
    if status == "canceled":
        period = f"<span>ended {page.day(sub.ended_at or sub.canceled_at)}</span>"
    elif sub.current_period_end and not sub.cancel_at_period_end:
        period = f"<span>renews {page.day(sub.current_period_end)}</span>"
    else:
        period = ""
    trial = (
        f"<span>trial until {page.day(sub.trial_end)}</span>"
        if sub.trial_end and status == "trialing"
        else ""
    )
    return (
        f'<li data-subscription="{_e(sub.gateway_id)}">\n'
        f'    <div class="line"><strong>{_e(sub.product or sub.plan or "Subscription")}</strong>\n'
        f'      <span class="badge s-{_e(status)}">{_display(sub, "status")}</span>\n'
        f"      {ends}</div>\n"
        f'    <div class="line muted"><span class="amt">{page.money(sub.amount, sub.currency)}'
        f"</span><span>every {_e(every)}{_e(sub.interval)}{times}</span>\n"
        f"      {period}\n"
        f"      {trial}<span>{_e(sub.account.name)}</span></div>\n"
        f'    <div class="line"><code>{_e(sub.gateway_id)}</code></div>\n'
        f"    {page.actions(sub, 'subscription')}\n  </li>"
    )


def _refund(page: _Page, refund: Refund) -> str:
    reason = f"<span>{_e(refund.reason)}</span>" if refund.reason else ""
    return (
        f'<li data-refund="{_e(refund.gateway_id)}">\n'
        f'    <div class="line"><span class="amt">{page.money(refund.amount, refund.currency)}'
        f"</span>\n"
        f'      <span class="badge s-{_e(refund.status)}">{_display(refund, "status")}</span>\n'
        f'      <span class="muted">{page.day(refund.gateway_created_at)}</span></div>\n'
        f'    <div class="line muted"><span>of <code>{_e(refund.charge_ref)}</code></span>'
        f"{reason}<span>{_e(refund.account.name)}</span></div>\n  </li>"
    )


def _invoice(page: _Page, inv: Invoice) -> str:
    muted = f"<span>{_e(inv.number)}</span>" if inv.number else ""
    if inv.amount_due and inv.status == "open":
        by = f" by {page.day(inv.due_date)}" if inv.due_date else ""
        muted += f'<span class="bad">due {page.money(inv.amount_due, inv.currency)}{by}</span>'
    links = ""
    if inv.hosted_url:
        links += (
            f'<a href="{_e(inv.hosted_url)}" target="_blank" rel="noopener noreferrer">view ↗</a>'
        )
    if inv.pdf_url:
        links += f'<a href="{_e(inv.pdf_url)}" target="_blank" rel="noopener noreferrer">PDF ↗</a>'
    return (
        f'<li data-invoice="{_e(inv.gateway_id)}">\n'
        f'    <div class="line"><span class="amt">{page.money(inv.total, inv.currency)}</span>\n'
        f'      <span class="badge s-{_e(inv.status)}">{_display(inv, "status")}</span>\n'
        f'      <span class="muted">{page.day(inv.gateway_created_at)}</span></div>\n'
        f'    <div class="line muted">{muted}<span>{_e(inv.account.name)}</span>\n'
        f"      {links}</div>\n"
        f"    {page.actions(inv, 'invoice')}\n  </li>"
    )


def _dispute(page: _Page, dispute: Dispute) -> str:
    reason = f"<span>{_e(dispute.reason)}</span>" if dispute.reason else ""
    due = (
        f'<span class="bad">evidence due {page.day(dispute.evidence_due_by)}</span>'
        if dispute.evidence_due_by and dispute.status == "needs_response"
        else ""
    )
    return (
        f'<li data-dispute="{_e(dispute.gateway_id)}">\n'
        f'    <div class="line"><span class="amt">{page.money(dispute.amount, dispute.currency)}'
        f"</span>\n"
        f'      <span class="badge s-{_e(dispute.status)}">{_display(dispute, "status")}</span>\n'
        f'      <span class="muted">{page.day(dispute.gateway_created_at)}</span></div>\n'
        f'    <div class="line muted"><span>on <code>{_e(dispute.charge_ref)}</code></span>'
        f"{reason}{due}<span>{_e(dispute.account.name)}</span></div>\n  </li>"
    )


def _action(page: _Page, entry: AuditEntry) -> str:
    amount = (
        f' <span class="amt">{page.money(entry.amount, entry.currency)}</span>'
        if entry.amount is not None
        else ""
    )
    at = _e(dateformat.format(timezone.localtime(entry.at), "j M Y H:i")) if entry.at else ""
    approver = f"<span>approved by {_e(entry.approver_name)}</span>" if entry.approver_name else ""
    target = f"<code>{_e(entry.target_id)}</code>" if entry.target_id else ""
    reason = ""
    if entry.reason_code or entry.reason_text:
        text = f": “{_e(entry.reason_text)}”" if entry.reason_text else ""
        reason = f'<div class="line muted">{_e(entry.reason_code)}{text}</div>'
    return (
        f'<li data-audit="{_e(entry.seq)}">\n'
        f'    <div class="line"><strong>{_e(entry.action)}</strong>{amount}\n'
        f'      <span class="badge s-{_e(entry.result)}">{_e(entry.result)}</span>\n'
        f'      <span class="muted">{at}</span></div>\n'
        f'    <div class="line muted"><span>by {_e(entry.actor_name)}</span>{approver}{target}'
        f"</div>\n    {reason}\n  </li>"
    )


def _count(section: Section[Any]) -> str:
    return f"{len(section.rows)}{'+' if section.more else ''}"


def _card(anchor: str, title: str, count: str, body: str, *, open_: bool) -> str:
    return (
        f'<section class="card" id="{anchor}"><details{" open" if open_ else ""}><summary>'
        f'<h2>{title} <span class="muted">{count}</span></h2></summary>\n  {body}\n'
        "</details></section>"
    )


def sections_html(data: PanelData, *, compact: bool, back: str = "") -> SafeString:
    """The person's sections: gateway records, charges, subscriptions, refunds, invoices,
    disputes and agent actions. ``compact`` for the panel (closed empty sections, "more"
    links to the console), else the console's person page."""
    page = _Page(data, compact=compact, back=back)

    def rows(items: Sequence[Any], render: Callable[[_Page, Any], str], empty: str) -> str:
        return _rows(items, lambda row: render(page, row), empty)

    def listed(section: Section[Any], render: Callable[[_Page, Any], str], name: str) -> str:
        return rows(section.rows, render, f"No {name}.") + f"\n  {page.more(section, name)}"

    parts = [
        _card(
            "records",
            "Gateway records",
            str(len(data.customers)),
            rows(data.customers, _customer, "No gateway records."),
            open_=True,
        ),
        _card(
            "charges",
            "Charges",
            _count(data.charges),
            listed(data.charges, _charge, "charges"),
            open_=True,
        ),
        _card(
            "subscriptions",
            "Subscriptions",
            _count(data.subscriptions),
            listed(data.subscriptions, _subscription, "subscriptions"),
            open_=True,
        ),
        _card(
            "refunds",
            "Refunds",
            _count(data.refunds),
            listed(data.refunds, _refund, "refunds"),
            open_=bool(data.refunds.rows) or not compact,
        ),
        _card(
            "invoices",
            "Invoices",
            _count(data.invoices),
            listed(data.invoices, _invoice, "invoices"),
            open_=not compact,
        ),
        _card(
            "disputes",
            "Disputes",
            _count(data.disputes),
            listed(data.disputes, _dispute, "disputes"),
            open_=bool(data.disputes.rows) or not compact,
        ),
        _card(
            "agent-actions",
            "Agent actions",
            str(len(data.actions)),
            rows(data.actions, _action, "No agent actions yet."),
            open_=True,
        ),
    ]
    return mark_safe("\n".join(parts) + "\n")  # noqa: S308 - every value above is escaped


def panel_page(request: HttpRequest, data: PanelData, *, role: Role, back: str) -> str:
    """The whole compact panel page for one person (``data`` with its documents)."""
    token = get_token(request)
    person = data.person
    messages = get_messages(request)
    notes = (
        '<ul class="messages" role="status">'
        + "".join(f'<li class="{_e(m.tags)}">{_e(m)}</li>' for m in messages)
        + "</ul>"
        if messages
        else ""
    )
    emails = "".join(f"<span>{_e(email)}</span>" for email in data.secondary_emails)
    console = reverse("console-person", args=[person.pk])
    read_only = '<span class="badge">read-only</span>' if role == Role.READ_ONLY else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"  <title>{_e(person)} · billingdesk panel</title>\n"
        f'  <link rel="stylesheet" href="{_e(static("panel/panel.css"))}">\n'
        f'  <script src="{_e(static("panel/htmx.min.js"))}" defer></script>\n</head>\n'
        f'<body class="panel" hx-headers=\'{{"X-CSRFToken": "{_e(token)}"}}\'>\n'
        f'<div class="wrap">\n  {notes}\n  <header class="card">\n'
        f"    <h1>{_e(person.name or person.primary_email or '(no name)')}</h1>\n"
        f'    <div class="line muted"><span>{_e(person.primary_email)}</span>{emails}</div>\n'
        f'    <div class="line"><a href="{_e(console)}" target="_blank" rel="noopener">'
        f"Open in console ↗</a>{read_only}</div>\n  </header>\n"
        f"  {sections_html(data, compact=True, back=back)}\n"
        f"  {_documents(data, role=role, token=token, here=request.get_full_path())}"
        "\n</div>\n</body>\n</html>\n"
    )


def _documents(data: PanelData, *, role: Role, token: str, here: str) -> str:
    """Our own invoices, receipts and credit notes: a line each, with PDF and resend."""
    documents = data.documents
    page = _Page(data, compact=True, back="")
    if documents:  # one reverse() each for the page, as for the action buttons
        pdf = reverse("documents:pdf", args=[0]).removesuffix("0/pdf")
        resend = reverse("documents:resend", args=[0]).removesuffix("0/resend")
    items = []
    for doc in documents:
        corrects = (
            f"<span>corrects {_e(doc.original_number)}</span>"  # type: ignore[attr-defined]
            if doc.original_number is not None  # type: ignore[attr-defined]
            else ""
        )
        form = (
            f'<form method="post" action="{_e(resend)}{doc.pk}/resend" style="display:inline">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">'
            f'<input type="hidden" name="next" value="{_e(here)}">'
            '<button type="submit">Resend</button></form>'
            if role != Role.READ_ONLY
            else ""
        )
        kind = str(_labels(Document, "kind").get(doc.kind, doc.kind))
        items.append(
            f'<li>\n  <div class="line"><strong>{_e(kind[:1].upper() + kind[1:])} '
            f"{_e(doc.number)}</strong><span>{page.money(doc.gross, doc.currency)}</span></div>\n"
            f'  <div class="line muted"><span>{page.day(doc.issued_at)}</span>{corrects}'
            f'<a href="{_e(pdf)}{doc.pk}/pdf">PDF</a>{form}</div>\n</li>'
        )
    rows = "".join(items) or '<li class="muted">No documents yet.</li>'
    return (
        f'<section class="card" id="documents"><details{" open" if documents else ""}>'
        "<summary><h2>Our invoices, receipts, credit notes "
        f'<span class="muted">{len(documents)}</span></h2></summary>\n'
        f'    <ul class="rows">{rows}</ul>\n  </details></section>'
    )
