"""The compact panel and the row lists of a person (the sections) rendered in Python.

A compact panel prints a few hundred values; through Django's template engine each one costs a
variable lookup, a filter call and an autoescape check (~10 µs each on a slow core), which made
the template the largest part of a panel's time. Here the markup is what the old
``panel/panel.html`` and ``panel/rows/*.html`` templates produced, built with the kernel's
``html(template, *values)``: safe by construction, as ``format_html`` is — every value is
escaped unless it is already ``SafeString`` (a fragment built the same way), so a value from
the mirror (names, descriptions, reasons and ids are customer-controlled) cannot be forgotten.
Every URL attribute goes through ``url_attr`` (http(s) or this site only): a gateway's
``hosted_url`` of ``javascript:…`` is not linked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.contrib.messages import get_messages
from django.db.models import Model
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from billingdesk.accounts.models import Role
from billingdesk.actions.models import AuditEntry
from billingdesk.actions.rules import TAX_ID_TYPES
from billingdesk.billing.models import (
    Charge,
    Customer,
    Dispute,
    Invoice,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.core.html import SafeString, esc, html, join, url_attr
from billingdesk.core.labels import label
from billingdesk.core.money import active_locale, day_format, moment_format, money_format
from billingdesk.documents.models import Document
from billingdesk.panel.dispute_banner import dispute_banner_html
from billingdesk.panel.formatting import confidence_band
from billingdesk.panel.labels import audit_headline
from billingdesk.panel.selectors import PanelData, Section, documents_first


@lru_cache(maxsize=64)
def _labels(model: type[Model], field: str) -> dict[Any, Any]:
    return dict(model._meta.get_field(field).flatchoices)  # type: ignore[union-attr]


def _display(row: Model, field: str) -> str:
    """The plain, translated word for a stored code (``core.labels``, in the field's context
    where the same code means something else elsewhere), never the code."""
    return label(getattr(row, field), field)


def _truncated(text: str, length: int) -> str:
    """``text|truncatechars:length``."""
    if text.isascii() and len(text) <= length:
        return text
    return Truncator(text).chars(length)


_EMPTY = SafeString("")


def _every(interval: str, count: int) -> str:
    """ "every month", "every 3 months" (a gateway's other intervals by their label)."""
    units = {
        "day": ngettext("every day", "every %(count)s days", count),
        "week": ngettext("every week", "every %(count)s weeks", count),
        "month": ngettext("every month", "every %(count)s months", count),
        "year": ngettext("every year", "every %(count)s years", count),
    }
    text = units.get(interval)
    if text is None:
        return _("every %(count)s %(interval)s") % {"count": count, "interval": label(interval)}
    return text % {"count": count} if "%(count)s" in text else text


def _empties() -> dict[str, str]:
    """What an empty section says, by its anchor (in the active language)."""
    return {
        "charges": _("No charges."),
        "subscriptions": _("No subscriptions."),
        "refunds": _("No refunds."),
        "invoices": _("No invoices."),
        "disputes": _("No disputes."),
    }


_ACTION_BUTTON = (
    '<button type="button" class="small" hx-get="{}?back={}" hx-target="#{}"'
    ' data-action="{}">{}</button>'
)


@lru_cache(maxsize=8192)
def _day_html(value: date, locale: str) -> SafeString:
    """A day as ``day_format`` writes it, escaped (cached: a panel writes a hundred)."""
    return SafeString(esc(day_format(value, locale=locale)))


@lru_cache(maxsize=8192)
def _money_html(amount: int | None, currency: str, locale: str) -> SafeString:
    """An amount as ``money_format`` writes it, escaped (cached: amounts repeat)."""
    return SafeString(esc(money_format(amount, currency, locale=locale)))


class _Page:
    """What every row of one page is rendered with."""

    def __init__(self, data: PanelData, *, compact: bool, back: str) -> None:
        self.data = data
        self.compact = compact
        self.back = SafeString(esc(back))  # escaped once for every button
        self.locale = active_locale()
        self.tz = timezone.get_current_timezone()

    def day(self, value: datetime | None) -> SafeString:
        if value is None:
            return _EMPTY
        if value.utcoffset() is not None:
            value = value.astimezone(self.tz)
        return _day_html(value.date(), self.locale)

    @cached_property
    def console(self) -> str:
        """The person's page in the console (one ``reverse()`` for the page)."""
        return reverse("console-person", args=[self.data.person.pk])

    def money(self, amount: int | None, currency: str) -> SafeString:
        return _money_html(amount, currency, self.locale)

    def money_text(self, amount: int | None, currency: str) -> str:
        """An amount as plain text, to go into a translated sentence (escaped with it)."""
        return money_format(amount, currency, locale=self.locale)

    def day_text(self, value: datetime | date | None) -> str:
        """A day as plain text, to go into a translated sentence (escaped with it)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            if value.utcoffset() is not None:
                value = value.astimezone(self.tz)
            value = value.date()
        return day_format(value, locale=self.locale)

    @cached_property
    def pdf_prefix(self) -> str:
        """``/documents/`` of ``/documents/<id>/pdf`` (one ``reverse()`` for the page)."""
        return reverse("documents:pdf", args=[0]).removesuffix("0/pdf")

    def actions(self, row: Any, kind: str, *, first: SafeString = _EMPTY) -> SafeString:
        """The row's action buttons (``row.offered``, set by the view; ``first`` before them)
        and their slot."""
        slot = f"slot-{kind}-{row.pk}"
        offered = getattr(row, "offered", None)
        buttons: SafeString = _EMPTY
        if offered:
            buttons = html(
                '<div class="acts">{}{}</div>',
                first,
                join(
                    html(_ACTION_BUTTON, url_attr(a.url), self.back, slot, a.kind, a.label)
                    for a in offered
                ),
            )
        awaiting = getattr(row, "awaiting", None)
        if awaiting:  # requests on this row waiting for finance (set by actions_available)
            buttons = html(
                "{}{}",
                join(
                    html(
                        '<div class="line"><span class="badge s-pending" data-awaiting="{}">'
                        "{}</span></div>",
                        k,
                        text,
                    )
                    for k, text in awaiting
                ),
                buttons,
            )
        return html('{}\n    <div class="slot" id="{}"></div>', buttons, slot)

    def more(self, section: Section[Any], anchor: str) -> SafeString:
        if not section.more:
            return _EMPTY
        if self.compact:
            return html(
                '<p><a href="{}#{}" target="_blank" rel="noopener">{}</a></p>',
                url_attr(self.console),
                anchor,
                _("More in the console ↗"),
            )
        return html(
            '<p class="muted">{}</p>',
            _("Showing the latest %(count)s.") % {"count": self.data.limit},
        )


def _rows(rows: Iterable[Any], render: Callable[[Any], SafeString], empty: str) -> SafeString:
    items = [render(row) for row in rows] or [html('<li class="muted">{}</li>', empty)]
    return html('<ul class="rows">\n  {}\n</ul>', join(items, "\n  "))


def _customer(page: _Page, c: Customer) -> SafeString:
    account = c.account
    details = join(
        html("<span>{}</span>", value) for value in (c.email, c.name, c.phone, c.country) if value
    )
    dashboard_url = url_attr(account.dashboard_url)
    dashboard = (
        html(
            ' <a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            dashboard_url,
            _("%(account)s dashboard ↗") % {"account": account.name},
        )
        if dashboard_url
        else _EMPTY
    )
    manual = (
        html(
            '      <span class="badge" title="{}">{}</span>\n',
            _("Linked by hand: automatic matching leaves it alone"),
            _("manual"),
        )
        if c.match_locked
        else _EMPTY
    )
    deleted = (
        html('      <span class="badge s-canceled">{}</span>', _("deleted"))
        if c.deleted
        else _EMPTY
    )
    return html(
        '<li data-customer="{}" id="row-customer-{}">\n'
        '    <div class="line"><strong>{}</strong> <span class="muted">{}</span>\n'
        '      <span class="badge {}" title="{}">{}</span>\n'
        "{}{}</div>\n"
        '    <div class="line muted">{}</div>\n'
        '    <div class="line"><code>{}</code>{}</div>\n'
        "    {}\n  </li>",
        c.gateway_id,
        c.pk,
        account.name,
        account.kind,
        confidence_band(c.match_confidence),
        _("How this record was matched to the person, and how sure the match is"),
        _("matched by %(method)s · %(confidence)s%%")
        % {"method": _display(c, "match_method"), "confidence": c.match_confidence},
        manual,
        deleted,
        details,
        c.gateway_id,
        dashboard,
        page.actions(c, "customer"),
    )


def _charge(page: _Page, ch: Charge) -> SafeString:
    muted = []
    if ch.amount_refunded:
        muted.append(
            html(
                '<span class="refunded">{}</span>',
                _("refunded %(amount)s")
                % {"amount": page.money_text(ch.amount_refunded, ch.currency)},
            )
        )
    if ch.card_last4:
        muted.append(html("<span>{} •••• {}</span>", ch.card_brand, ch.card_last4))
    muted.append(html("<span>{}</span>", ch.account.name))
    if ch.product or ch.description:
        muted.append(html("<span>{}</span>", _truncated(ch.product or ch.description, 48)))
    order = html("<code>{} {}</code>", _("order"), ch.order_id) if ch.order_id else _EMPTY
    failure = (
        html('<div class="line bad">{}</div>', ch.failure_message) if ch.failure_message else _EMPTY
    )
    status = ch.status
    return html(
        '<li data-charge="{}" id="row-charge-{}">\n'
        '    <div class="line"><span class="amt">{}</span>\n'
        '      <span class="badge s-{}">{}</span>\n'
        '      <span class="muted">{}</span>{}</div>\n'
        '    <div class="line muted">{}</div>\n'
        "    {}"
        '    <div class="line"><code>{}</code>{}</div>\n'
        "    {}\n"
        "    {}\n  </li>",
        ch.gateway_id,
        ch.pk,
        page.money(ch.amount, ch.currency),
        status,
        _display(ch, "status"),
        page.day(ch.gateway_created_at),
        _duplicate_badge(ch),
        join(muted),
        _paid_for(page, ch) + _own_documents(page, ch),
        ch.gateway_id,
        order,
        failure,
        page.actions(ch, "charge", first=_refund_duplicate_button(page, ch)),
    )


def _duplicate_badge(ch: Charge) -> SafeString:
    other = getattr(ch, "duplicate_of", None)
    if other is None:
        return _EMPTY
    return html(
        ' <span class="badge s-pending" data-duplicate-of="{}" title="{}">{}</span>',
        other.gateway_id,
        _("Same amount, card and customer as %(other)s, shortly before or after")
        % {"other": other.gateway_id},
        _("probable duplicate"),
    )


def _refund_duplicate_button(page: _Page, ch: Charge) -> SafeString:
    """The "Refund duplicate" button, on the later charge of a probable pair when a refund
    is offered: the refund's confirm step with the reason "duplicate" chosen."""
    if not getattr(ch, "duplicate_refundable", False):
        return _EMPTY
    refund = next((a for a in getattr(ch, "offered", None) or () if a.kind == "refund"), None)
    if refund is None:
        return _EMPTY
    return html(
        '<button type="button" class="small primary" hx-get="{}?back={}&amp;reason=duplicate"'
        ' hx-target="#slot-charge-{}" data-action="refund_duplicate">{}</button>',
        url_attr(refund.url),
        page.back,
        ch.pk,
        _("Refund duplicate"),
    )


def _own_documents(page: _Page, ch: Charge) -> SafeString:
    """Our invoice, receipt and credit notes for the charge, each a link to its PDF."""
    documents = getattr(ch, "own_documents", None)
    if not documents:
        return _EMPTY
    return html(
        '<div class="line muted" data-charge-documents>{}</div>\n',
        join(
            html(
                '<a href="{}{}/pdf" data-document="{}">{} {} (PDF)</a>',
                url_attr(page.pdf_prefix),
                doc.pk,
                doc.kind,
                _capitalised(label(doc.kind)),
                doc.number,
            )
            for doc in documents
        ),
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _paid_for(page: _Page, ch: Charge) -> SafeString:
    """What the charge was for: the plan, the period and the invoice it paid."""
    invoice = getattr(ch, "paid_invoice", None)
    if invoice is None:
        return _EMPTY
    parts = []
    subscription = getattr(invoice, "plan_subscription", None)
    plan = subscription and (subscription.product or subscription.plan)
    if plan:
        parts.append(html("<span>{} {}</span>", _("for"), plan))
    if invoice.period_start and invoice.period_end:
        parts.append(
            html(
                "<span>{} \N{EN DASH} {}</span>",
                page.day(invoice.period_start),
                page.day(invoice.period_end),
            )
        )
    label = invoice.number or invoice.gateway_id
    hosted = url_attr(invoice.hosted_url) or url_attr(invoice.pdf_url)
    parts.append(
        html(
            '<span>{} <a href="{}" target="_blank" rel="noopener noreferrer">{} ↗</a></span>',
            _("invoice"),
            hosted,
            label,
        )
        if hosted
        else html("<span>{} {}</span>", _("invoice"), label)
    )
    return html('<div class="line muted" data-paid-for>{}</div>\n', join(parts))


def _subscription(page: _Page, sub: Subscription) -> SafeString:
    status = sub.status
    ends = (
        html(
            '<span class="badge s-pending">{}</span>',
            _("ends %(day)s") % {"day": page.day_text(sub.current_period_end)},
        )
        if sub.cancel_at_period_end and status != "canceled"
        else _EMPTY
    )
    times = f" × {sub.quantity}" if sub.quantity > 1 else ""  # noqa: RUF001 - shown as is
    if status == "canceled":
        period = html(
            "<span>{}</span>",
            _("ended %(day)s") % {"day": page.day_text(sub.ended_at or sub.canceled_at)},
        )
    elif sub.current_period_end and not sub.cancel_at_period_end:
        period = html(
            "<span>{}</span>", _("renews %(day)s") % {"day": page.day_text(sub.current_period_end)}
        )
    else:
        period = _EMPTY
    trial = (
        html("<span>{}</span>", _("trial until %(day)s") % {"day": page.day_text(sub.trial_end)})
        if sub.trial_end and status == "trialing"
        else _EMPTY
    )
    return html(
        '<li data-subscription="{}" id="row-subscription-{}">\n'
        '    <div class="line"><strong>{}</strong>\n'
        '      <span class="badge s-{}">{}</span>\n'
        "      {}</div>\n"
        '    <div class="line muted"><span class="amt">{}</span><span>{}{}</span>\n'
        "      {}\n"
        "      {}<span>{}</span></div>\n"
        '    <div class="line"><code>{}</code></div>\n'
        "    {}\n  </li>",
        sub.gateway_id,
        sub.pk,
        sub.product or sub.plan or _("Subscription"),
        status,
        _display(sub, "status"),
        ends,
        page.money(sub.amount, sub.currency),
        _every(sub.interval, sub.interval_count),
        times,
        period,
        trial,
        sub.account.name,
        sub.gateway_id,
        page.actions(sub, "subscription"),
    )


def _refund(page: _Page, refund: Refund) -> SafeString:
    reason = html("<span>{}</span>", label(refund.reason)) if refund.reason else _EMPTY
    return html(
        '<li data-refund="{}">\n'
        '    <div class="line"><span class="amt">{}</span>\n'
        '      <span class="badge s-{}">{}</span>\n'
        '      <span class="muted">{}</span></div>\n'
        '    <div class="line muted"><span>{} <code>{}</code></span>{}<span>{}</span></div>\n'
        "  </li>",
        refund.gateway_id,
        page.money(refund.amount, refund.currency),
        refund.status,
        _display(refund, "status"),
        page.day(refund.gateway_created_at),
        _("of"),
        refund.charge_ref,
        reason,
        refund.account.name,
    )


def _invoice(page: _Page, inv: Invoice) -> SafeString:
    muted = html("<span>{}</span>", inv.number) if inv.number else _EMPTY
    if inv.amount_due and inv.status == "open":
        due = page.money_text(inv.amount_due, inv.currency)
        muted = html(
            '{}<span class="bad">{}</span>',
            muted,
            _("due %(amount)s by %(day)s") % {"amount": due, "day": page.day_text(inv.due_date)}
            if inv.due_date
            else _("due %(amount)s") % {"amount": due},
        )
    links = []
    hosted, pdf = url_attr(inv.hosted_url), url_attr(inv.pdf_url)
    if hosted:
        links.append(
            html(
                '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', hosted, _("view ↗")
            )
        )
    if pdf:
        links.append(html('<a href="{}" target="_blank" rel="noopener noreferrer">PDF ↗</a>', pdf))
    return html(
        '<li data-invoice="{}" id="row-invoice-{}">\n'
        '    <div class="line"><span class="amt">{}</span>\n'
        '      <span class="badge s-{}">{}</span>\n'
        '      <span class="muted">{}</span></div>\n'
        '    <div class="line muted">{}<span>{}</span>\n'
        "      {}</div>\n"
        "    {}\n  </li>",
        inv.gateway_id,
        inv.pk,
        page.money(inv.total, inv.currency),
        inv.status,
        _display(inv, "status"),
        page.day(inv.gateway_created_at),
        muted,
        inv.account.name,
        join(links),
        page.actions(inv, "invoice"),
    )


def _dispute(page: _Page, dispute: Dispute) -> SafeString:
    reason = html("<span>{}</span>", label(dispute.reason)) if dispute.reason else _EMPTY
    due = (
        html(
            '<span class="bad">{}</span>',
            _("evidence due %(day)s") % {"day": page.day_text(dispute.evidence_due_by)},
        )
        if dispute.evidence_due_by and dispute.status == "needs_response"
        else _EMPTY
    )
    return html(
        '<li data-dispute="{}">\n'
        '    <div class="line"><span class="amt">{}</span>\n'
        '      <span class="badge s-{}">{}</span>\n'
        '      <span class="muted">{}</span></div>\n'
        '    <div class="line muted"><span>{} <code>{}</code></span>{}{}<span>{}</span></div>\n'
        "  </li>",
        dispute.gateway_id,
        page.money(dispute.amount, dispute.currency),
        dispute.status,
        _display(dispute, "status"),
        page.day(dispute.gateway_created_at),
        _("on"),
        dispute.charge_ref,
        reason,
        due,
        dispute.account.name,
    )


def _action(page: _Page, entry: AuditEntry) -> SafeString:
    amount = (
        html(' <span class="amt">{}</span>', page.money(entry.amount, entry.currency))
        if entry.amount is not None
        else _EMPTY
    )
    at = moment_format(entry.at, page.tz, locale=page.locale) if entry.at else ""
    approver = (
        html("<span>{}</span>", _("approved by %(name)s") % {"name": entry.approver_name})
        if entry.approver_name
        else _EMPTY
    )
    target = html("<code>{}</code>", entry.target_id) if entry.target_id else _EMPTY
    reason = _EMPTY
    if entry.reason_code or entry.reason_text:
        text = html(": “{}”", entry.reason_text) if entry.reason_text else _EMPTY
        reason = html('<div class="line muted">{}{}</div>', label(entry.reason_code), text)
    return html(
        '<li data-audit="{}">\n'
        '    <div class="line"><strong>{}</strong>{}\n'
        '      <span class="badge s-{}">{}</span>\n'
        '      <span class="muted">{}</span></div>\n'
        '    <div class="line muted"><span>{}</span>{}{}</div>\n'
        "    {}\n  </li>",
        entry.seq,
        audit_headline(entry),
        amount,
        entry.result,
        label(entry.result),
        at,
        _("by %(name)s") % {"name": entry.actor_name},
        approver,
        target,
        reason,
    )


def _tax_id(page: _Page, tax_id: TaxId) -> SafeString:
    verification = (
        html(' <span class="badge">{}</span>', tax_id.verification)
        if tax_id.verification
        else _EMPTY
    )
    return html(
        '<li data-taxid="{}" id="row-taxid-{}">\n'
        '    <div class="line"><strong>{}</strong> <code>{}</code>{}</div>\n'
        '    <div class="line muted"><span>{}</span><span>{}</span></div>\n  </li>',
        tax_id.gateway_id,
        tax_id.pk,
        _(TAX_ID_TYPES[tax_id.tax_type]) if tax_id.tax_type in TAX_ID_TYPES else tax_id.tax_type,
        tax_id.value,
        verification,
        page.day(tax_id.gateway_created_at),
        tax_id.account.name,
    )


def _older_charges(page: _Page, section: Section[Any]) -> SafeString:
    """The panel's "older charges" button, loading the next rows in place."""
    if not section.more or not section.rows:
        return _EMPTY
    url = reverse("panel-person-charges", args=[page.data.person.pk])
    return html(
        '<li class="older"><button type="button" class="small" hx-get="{}?before={}&amp;back={}"'
        ' hx-target="closest li" hx-swap="outerHTML" data-older>{}</button></li>',
        url_attr(url),
        section.rows[-1].pk,
        page.back,
        _("Older charges"),
    )


def _charges_search(page: _Page) -> SafeString:
    """Search within the person's charges (description, product, ids, amount)."""
    url = reverse("panel-person-charges", args=[page.data.person.pk])
    return html(
        '<form class="charge-search" role="search" hx-get="{}" hx-target="#charge-list"'
        ' hx-swap="innerHTML" action="{}">'
        '<input type="hidden" name="back" value="{}">'
        '<input type="search" name="q" data-search aria-label="{}" placeholder="{}"'
        ' maxlength="100">'
        "</form>",
        url_attr(url),
        url_attr(url),
        page.back,
        _("Search this person's charges"),
        _("Search charges (/)"),
    )


def charge_rows_html(
    data: PanelData, section: Section[Any], *, back: str, searched: bool
) -> SafeString:
    """Charge rows for the panel's "older charges" and search within the person: the rows,
    then the button for the next older ones."""
    page = _Page(data, compact=True, back=back)
    items = [_charge(page, row) for row in section.rows]
    if not items:
        items = [html('<li class="muted">{}</li>', _("No matching charges.") if searched else "")]
    return html("{}\n{}", join(items, "\n  "), _older_charges(page, section))


def _count(section: Section[Any]) -> str:
    return f"{len(section.rows)}{'+' if section.more else ''}"


def _card(anchor: str, title: str, count: str, body: SafeString, *, open_: bool) -> SafeString:
    return html(
        '<section class="card" id="{}"><details{}><summary>'
        '<h2>{} <span class="muted">{}</span></h2></summary>\n  {}\n'
        "</details></section>",
        anchor,
        SafeString(" open") if open_ else _EMPTY,
        title,
        count,
        body,
    )


def sections_html(data: PanelData, *, compact: bool, back: str = "") -> SafeString:
    """The person's sections: gateway records, charges, subscriptions, refunds, invoices,
    disputes and agent actions. ``compact`` for the panel (closed empty sections, "more"
    links to the console), else the console's person page."""
    page = _Page(data, compact=compact, back=back)

    def rows(
        items: Sequence[Any], render: Callable[[_Page, Any], SafeString], empty: str
    ) -> SafeString:
        return _rows(items, lambda row: render(page, row), empty)

    empties = _empties()

    def listed(
        section: Section[Any], render: Callable[[_Page, Any], SafeString], name: str
    ) -> SafeString:
        return html("{}\n  {}", rows(section.rows, render, empties[name]), page.more(section, name))

    parts = [
        dispute_banner_html(data.disputes.rows),
        _card(
            "records",
            _("Gateway records"),
            str(len(data.customers)),
            rows(data.customers, _customer, _("No gateway records.")),
            open_=True,
        ),
        _card(
            "charges",
            _("Charges"),
            _count(data.charges),
            html(
                '{}<ul class="rows" id="charge-list">\n  {}\n  {}\n</ul>',
                _charges_search(page),
                join([_charge(page, row) for row in data.charges.rows], "\n  ")
                or html('<li class="muted">{}</li>', _("No charges.")),
                _older_charges(page, data.charges),
            )
            + page.more(data.charges, "charges")
            if compact
            else listed(data.charges, _charge, "charges"),
            open_=True,
        ),
        _card(
            "subscriptions",
            _("Subscriptions"),
            _count(data.subscriptions),
            listed(data.subscriptions, _subscription, "subscriptions"),
            open_=True,
        ),
        _card(
            "refunds",
            _("Refunds"),
            _count(data.refunds),
            listed(data.refunds, _refund, "refunds"),
            open_=bool(data.refunds.rows) or not compact,
        ),
        _card(
            "invoices",
            _("Invoices"),
            _count(data.invoices),
            listed(data.invoices, _invoice, "invoices"),
            open_=not compact,
        ),
        _card(
            "disputes",
            _("Disputes"),
            _count(data.disputes),
            listed(data.disputes, _dispute, "disputes"),
            open_=bool(data.disputes.rows) or not compact,
        ),
        *(
            [
                _card(
                    "tax-ids",
                    _("Tax ids"),
                    str(len(data.tax_ids)),
                    rows(data.tax_ids, _tax_id, _("No tax ids.")),
                    open_=bool(data.tax_ids),
                )
            ]
            if compact
            else []
        ),
        _card(
            "agent-actions",
            _("Agent actions"),
            str(len(data.actions)),
            rows(data.actions, _action, _("No agent actions yet.")),
            open_=True,
        ),
    ]
    return html("{}\n", join(parts, "\n"))


def panel_page(request: HttpRequest, data: PanelData, *, role: Role, back: str) -> SafeString:
    """The whole compact panel page for one person (``data`` with its documents)."""
    token = get_token(request)
    person = data.person
    body, documents = panel_parts(request, data, role=role, back=back)
    # The CSRF token goes in once the digest is taken (it is masked anew on every request).
    documents = SafeString(documents.replace(_TOKEN_SLOT, esc(token)))
    messages = get_messages(request)
    notes = (
        html(
            '<ul class="messages" role="status">{}</ul>',
            join(html('<li class="{}">{}</li>', m.tags, m) for m in messages),
        )
        if messages
        else _EMPTY
    )
    emails = join(html("<span>{}</span>", email) for email in data.secondary_emails)
    console = reverse("console-person", args=[person.pk])
    read_only = (
        html('<span class="badge">{}</span>', _("read-only")) if role == Role.READ_ONLY else _EMPTY
    )
    return html(
        '<!doctype html>\n<html lang="{}">\n<head>\n  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "  <title>{} · {}</title>\n"
        '  <link rel="stylesheet" href="{}">\n'
        '  <script src="{}" defer></script>\n'
        '  <script src="{}" defer></script>\n</head>\n'
        '<body class="panel" hx-headers=\'{{"X-CSRFToken": "{}"}}\'>\n'
        '<div class="wrap">\n  {}\n  <header class="card">\n'
        "    <h1>{}</h1>\n"
        '    <div class="line muted"><span>{}</span>{}</div>\n'
        '    <div class="line"><a href="{}" target="_blank" rel="noopener">'
        "{}</a>{}</div>\n  </header>\n"
        "  {}\n"
        "  {}\n"
        "  {}"
        "\n</div>\n</body>\n</html>\n",
        get_language() or settings.LANGUAGE_CODE,
        person,
        _("billingdesk panel"),
        url_attr(static("panel/panel.css")),
        url_attr(static("panel/htmx.min.js")),
        url_attr(static("panel/panel.js")),
        token,
        notes,
        person.name or person.primary_email or _("(no name)"),
        person.primary_email,
        emails,
        url_attr(console),
        _("Open in console ↗"),
        read_only,
        *((documents, body) if documents_first(data.documents) else (body, documents)),
        _freshness(data, body, documents, back=back),
    )


def _freshness(data: PanelData, *parts: SafeString, back: str) -> SafeString:
    """The element htmx polls to learn whether the panel changed (see ``views.panel_fresh``)."""
    url = reverse("panel-person-fresh", args=[data.person.pk])
    return html(
        '<div data-freshness hx-get="{}?v={}&amp;back={}" hx-trigger="every {}s" hx-swap="none">'
        "</div>",
        url_attr(url),
        panel_version(*parts),
        back,
        f"{settings.PANEL_POLL_SECONDS:g}",
    )


def panel_version(*parts: SafeString) -> str:
    """A short digest of what the panel shows (its sections and documents)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode())
    return digest.hexdigest()[:20]


def panel_parts(
    request: HttpRequest, data: PanelData, *, role: Role, back: str
) -> tuple[SafeString, SafeString]:
    """The panel's sections and its documents, as shown (and digested for freshness)."""
    return (
        sections_html(data, compact=True, back=back),
        _documents(data, role=role, token="", here=unquote(back)),
    )


# Where the documents' resend forms get the page's CSRF token.
_TOKEN_SLOT = "__csrf_token__"


def _corrects(doc: Document) -> str:
    """ "corrects receipt R-2026-000012": what a credit note or replacement is for."""
    original = label(doc.original_kind).lower()  # type: ignore[attr-defined]
    number = doc.original_number  # type: ignore[attr-defined]
    if doc.kind == "credit_note":
        return _("corrects %(kind)s %(number)s") % {"kind": original, "number": number}
    return _("replaces %(kind)s %(number)s") % {"kind": original, "number": number}


def _documents(data: PanelData, *, role: Role, token: str, here: str) -> SafeString:
    """Our own invoices, receipts and credit notes: a line each, with PDF and resend."""
    documents = data.documents
    page = _Page(data, compact=True, back="")
    if documents:  # one reverse() each for the page, as for the action buttons
        pdf = reverse("documents:pdf", args=[0]).removesuffix("0/pdf")
        resend = reverse("documents:resend", args=[0]).removesuffix("0/resend")
    items = []
    for doc in documents:
        corrects = (
            html("<span>{}</span>", _corrects(doc))
            if doc.original_number is not None  # type: ignore[attr-defined]
            else _EMPTY
        )
        form = (
            html(
                '<form method="post" action="{}{}/resend" style="display:inline">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="next" value="{}">'
                '<button type="submit">{}</button></form>',
                url_attr(resend),
                doc.pk,
                token or _TOKEN_SLOT,
                here,
                _("Resend"),
            )
            if role != Role.READ_ONLY
            else _EMPTY
        )
        kind = _capitalised(label(doc.kind))
        items.append(
            html(
                '<li>\n  <div class="line"><strong>{} {}</strong><span>{}</span></div>\n'
                '  <div class="line muted"><span>{}</span>{}<a href="{}{}/pdf">PDF</a>{}</div>\n'
                "</li>",
                kind,
                doc.number,
                page.money(doc.gross, doc.currency),
                page.day(doc.issued_at),
                corrects,
                url_attr(pdf),
                doc.pk,
                form,
            )
        )
    rows = join(items) or html('<li class="muted">{}</li>', _("No documents yet."))
    return html(
        '<section class="card" id="documents"><details{}>'
        "<summary><h2>{} "
        '<span class="muted">{}</span></h2></summary>\n'
        '    <ul class="rows">{}</ul>\n  </details></section>',
        SafeString(" open") if documents else _EMPTY,
        _("Our invoices, receipts, credit notes"),
        len(documents),
        rows,
    )
