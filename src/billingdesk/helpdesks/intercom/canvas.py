"""Canvas Kit components for the Intercom Inbox app, built from the panel's selector.

Reference: shared/reference/helpdesks.md §3.1 (component shapes from ``intercom-node`` types).
Intercom renders the components itself (text is Markdown), so values are Markdown-escaped.
Canvases stay well below the 64 KB limit: at most ``ROWS`` rows of each kind.
"""

from __future__ import annotations

import re
from typing import Any

from billingdesk.actions.models import ActionKind
from billingdesk.actions.reasons import reason_choices
from billingdesk.actions.services import ActionPreview
from billingdesk.billing.models import Charge, Subscription
from billingdesk.core.money import day_format
from billingdesk.core.money import money_format as money_display
from billingdesk.panel.selectors import PanelData

ROWS = 5
_MD = re.compile(r"([\\`*_\[\]()#>~|])")

Component = dict[str, Any]


def md(text: object) -> str:
    return _MD.sub(r"\\\1", str(text))


def _money(amount: int | None, currency: str) -> str:
    return money_display(amount, currency, locale="en")


def text(value: str, style: str = "paragraph") -> Component:
    return {"type": "text", "text": value, "style": style}


def canvas(components: list[Component], stored: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"content": {"components": components}}
    if stored:
        body["stored_data"] = stored
    return {"canvas": body}


def message(value: str, *, style: str = "paragraph", back: bool = True) -> dict[str, Any]:
    comps = [text(md(value), style)]
    if back:
        comps.append(
            {
                "type": "button",
                "id": "back",
                "label": "Back",
                "style": "secondary",
                "action": {"type": "submit"},
            }
        )
    return canvas(comps)


def person_canvas(
    data: PanelData | None,
    *,
    email: str,
    link: str,
    can_act: bool,
    note: str = "",
    billing_link: str = "",
) -> dict[str, Any]:
    if data is None:
        return canvas(
            [text(f"No billing records for {md(email or 'this contact (no email)')}.", "muted")]
        )
    person = data.person
    comps: list[Component] = [
        text(f"*{md(person.name or person.primary_email or email)}*", "header"),
        {
            "type": "data-table",
            "items": [
                {"type": "field-value", "field": "Email", "value": person.primary_email or email},
                {
                    "type": "field-value",
                    "field": "Gateways",
                    "value": ", ".join(sorted({c.account.name for c in data.customers})) or "—",
                },
            ],
        },
    ]
    if note:
        comps.append(text(md(note), "muted"))
    subs: list[Subscription] = data.subscriptions.rows[:ROWS]
    comps.append(text("*Subscriptions*"))
    if subs:
        comps.append({"type": "list", "items": [_sub_item(s, can_act) for s in subs]})
    else:
        comps.append(text("No subscriptions.", "muted"))
    charges: list[Charge] = data.charges.rows[:ROWS]
    comps.append(text("*Charges*"))
    if charges:
        comps.append({"type": "list", "items": [_charge_item(c, can_act) for c in charges]})
    else:
        comps.append(text("No charges.", "muted"))
    comps.append({"type": "divider"})
    comps.append(
        {
            "type": "button",
            "id": "open",
            "label": "Open in billingdesk",
            "style": "secondary",
            "action": {"type": "url", "url": link},
        }
    )
    if can_act and billing_link:
        comps.append(
            {
                "type": "button",
                "id": "billing-link",
                "label": "Billing link for the customer",
                "style": "secondary",
                "action": {"type": "url", "url": billing_link},
            }
        )
    return canvas(comps)


def _charge_item(charge: Charge, can_act: bool) -> Component:
    subtitle = day_format(charge.gateway_created_at, locale="en")
    item: Component = {
        "type": "item",
        "id": f"charge:{charge.pk}",
        "title": f"{_money(charge.amount, charge.currency)} — {charge.status}",
        "subtitle": subtitle,
        "tertiary_text": charge.gateway_id,
    }
    if charge.amount_refunded:
        item["tertiary_text"] = f"refunded {_money(charge.amount_refunded, charge.currency)}"
    if can_act:
        item["action"] = {"type": "submit"}
    return item


def _sub_item(sub: Subscription, can_act: bool) -> Component:
    price = f"{_money(sub.amount, sub.currency)}/{sub.interval}" if sub.currency else ""
    end = day_format(sub.current_period_end, locale="en")
    item: Component = {
        "type": "item",
        "id": f"sub:{sub.pk}",
        "title": f"{sub.plan or sub.product or sub.gateway_id} — {sub.status}",
        "subtitle": price,
        "tertiary_text": ("cancels " if sub.cancel_at_period_end else "renews ") + end
        if end
        else "",
    }
    if can_act:
        item["action"] = {"type": "submit"}
    return item


def _reasons(kind: str) -> Component:
    return {
        "type": "single-select",
        "id": "reason_code",
        "label": "Reason",
        "options": [
            {"type": "option", "id": code, "text": label}
            for code, label in reason_choices(kind)[:10]
        ],
    }


def refund_form(charge: Charge, stored: dict[str, Any]) -> dict[str, Any]:
    return canvas(
        [
            text(
                f"*Refund* {md(_money(charge.amount, charge.currency))} "
                f"charge {md(charge.gateway_id)}",
                "header",
            ),
            {
                "type": "input",
                "id": "amount",
                "label": f"Amount in minor units (at most {charge.refundable})",
                "value": str(charge.refundable),
            },
            _reasons(ActionKind.REFUND),
            {"type": "textarea", "id": "reason_text", "label": "Explain the reason"},
            {
                "type": "button",
                "id": "review",
                "label": "Review refund",
                "style": "primary",
                "action": {"type": "submit"},
            },
            {
                "type": "button",
                "id": "back",
                "label": "Back",
                "style": "secondary",
                "action": {"type": "submit"},
            },
        ],
        stored,
    )


def cancel_form(sub: Subscription, stored: dict[str, Any]) -> dict[str, Any]:
    return canvas(
        [
            text(f"*Cancel* {md(sub.plan or sub.product or sub.gateway_id)}", "header"),
            {
                "type": "single-select",
                "id": "when",
                "label": "When",
                "options": [
                    {"type": "option", "id": "period_end", "text": "At the end of the period"},
                    {"type": "option", "id": "now", "text": "Now"},
                ],
            },
            _reasons(ActionKind.CANCEL_SUBSCRIPTION),
            {"type": "textarea", "id": "reason_text", "label": "Explain the reason"},
            {
                "type": "button",
                "id": "review",
                "label": "Review cancellation",
                "style": "primary",
                "action": {"type": "submit"},
            },
            {
                "type": "button",
                "id": "back",
                "label": "Back",
                "style": "secondary",
                "action": {"type": "submit"},
            },
        ],
        stored,
    )


def confirm(preview: ActionPreview, stored: dict[str, Any]) -> dict[str, Any]:
    comps: list[Component] = [text("*Confirm*", "header")]
    comps += [text(md(line)) for line in preview.lines]
    if preview.needs_approval:
        comps.append(
            text("Above your limit: this becomes a request for finance to approve.", "muted")
        )
    comps.append(
        {
            "type": "button",
            "id": "confirm",
            "label": "Confirm",
            "style": "primary",
            "action": {"type": "submit"},
        }
    )
    comps.append(
        {
            "type": "button",
            "id": "back",
            "label": "Back",
            "style": "secondary",
            "action": {"type": "submit"},
        }
    )
    return canvas(comps, stored)
