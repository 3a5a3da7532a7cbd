"""The private note with billing context written into helpdesk tickets.

Built from the panel's own selector (``panel_data``), so the note says what the panel shows:
the person, recent charges, subscription state, the document concerned and a link into the
console. Every value is escaped (HTML and Markdown alike): names and descriptions come from
gateways and customers.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from billingdesk.core.html import safe_url
from billingdesk.core.money import day_format
from billingdesk.core.money import money_format as money_display
from billingdesk.helpdesks.interface import Note
from billingdesk.panel.selectors import PanelData

NOTE_ROWS = 5
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#])")


def _md(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def person_link(person_id: int) -> str:
    return settings.BASE_URL + reverse("console-person", kwargs={"person_id": person_id})


def billing_link_page(person_id: int) -> str:
    """The agent's page making the customer's billing link (it checks the agent's role)."""
    return settings.BASE_URL + reverse("portal:agent-link", kwargs={"person_id": person_id})


def note_build(
    *,
    data: PanelData | None,
    email: str,
    document: str = "",
    message: str = "",
) -> Note:
    """The note for a ticket about ``email`` (``data`` None when no person matched)."""
    html: list[str] = ["<p><b>Billing context</b> (billingdesk)</p>"]
    md: list[str] = ["**Billing context** (billingdesk)", ""]
    if document:
        html.append(f"<p>Document concerned: {escape(document)}</p>")
        md += [f"Document concerned: {_md(document)}", ""]
    if data is None:
        html.append(f"<p>No billing records found for {escape(email)}.</p>")
        md.append(f"No billing records found for {_md(email)}.")
    else:
        person = data.person
        who = person.name or person.primary_email or email
        link = person_link(person.pk)
        html.append(
            f"<p>Customer: {escape(who)} &lt;{escape(person.primary_email or email)}&gt; — "
            f'<a href="{escape(safe_url(link))}">open in billingdesk</a></p>'
        )
        md += [
            f"Customer: {_md(who)} ({_md(person.primary_email or email)})"
            f" — [open in billingdesk]({link})",
            "",
        ]
        subs = data.subscriptions.rows[:NOTE_ROWS]
        if subs:
            html.append("<p>Subscriptions:</p><ul>")
            md.append("Subscriptions:")
            for sub in subs:
                price = money_display(sub.amount, sub.currency, locale="en") if sub.currency else ""
                end = " (cancels at period end)" if sub.cancel_at_period_end else ""
                name = sub.plan or sub.product or sub.gateway_id
                line = f"{name}: {sub.status}{end} {price}/{sub.interval}"
                html.append(f"<li>{escape(line)}</li>")
                md.append(f"- {_md(line)}")
            html.append("</ul>")
            md.append("")
        else:
            html.append("<p>No subscriptions.</p>")
            md += ["No subscriptions.", ""]
        charges = data.charges.rows[:NOTE_ROWS]
        if charges:
            html.append("<p>Recent charges:</p><ul>")
            md.append("Recent charges:")
            for ch in charges:
                when = day_format(ch.gateway_created_at, locale="en")
                refunded = (
                    f", refunded {money_display(ch.amount_refunded, ch.currency, locale='en')}"
                    if ch.amount_refunded
                    else ""
                )
                line = (
                    f"{when} {money_display(ch.amount, ch.currency, locale='en')} {ch.status}"
                    f"{refunded} ({ch.gateway_id})"
                )
                html.append(f"<li>{escape(line)}</li>")
                md.append(f"- {_md(line)}")
            html.append("</ul>")
        else:
            html.append("<p>No charges.</p>")
            md.append("No charges.")
    if message:
        html.append(f"<p>Customer wrote:</p><blockquote>{escape(message[:2000])}</blockquote>")
        md += ["", "Customer wrote:", "> " + _md(message[:2000]).replace("\n", "\n> ")]
    return Note(html="".join(html), markdown="\n".join(md))
