"""What a person's billing history page shows: one timeline of their charges, refunds,
subscriptions and documents across every gateway account, newest first.

Every query starts from the person id (``customer__person_id``, ``person_id``): nothing here
can reach another person's rows. Entries carry plain values (translated words, formatted
amounts and dates in the active language) so templates only print them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billingdesk.billing.models import Charge, Refund, Subscription
from billingdesk.core.money import day_format, money_format
from billingdesk.documents.selectors import documents_for_person

# Every status in plain words; an unknown code (a newer gateway state) reads "Other".
STATUS_WORDS = {
    "charge": {
        "pending": gettext_lazy("Processing"),
        "authorized": gettext_lazy("Authorised, not yet taken"),
        "captured": gettext_lazy("Paid"),
        "partially_refunded": gettext_lazy("Partly refunded"),
        "refunded": gettext_lazy("Refunded"),
        "failed": gettext_lazy("Failed"),
        "voided": gettext_lazy("Cancelled"),
        "disputed": gettext_lazy("Disputed"),
    },
    "refund": {
        "pending": gettext_lazy("Processing"),
        "succeeded": gettext_lazy("Refunded"),
        "failed": gettext_lazy("Failed"),
        "canceled": gettext_lazy("Cancelled"),
    },
    "subscription": {
        "trialing": gettext_lazy("Trial"),
        "active": gettext_lazy("Active"),
        "past_due": gettext_lazy("Payment overdue"),
        "unpaid": gettext_lazy("Unpaid"),
        "paused": gettext_lazy("Paused"),
        "incomplete": gettext_lazy("Awaiting first payment"),
        "incomplete_expired": gettext_lazy("Expired"),
        "canceled": gettext_lazy("Cancelled"),
    },
}

KIND_WORDS = {
    "charge": gettext_lazy("Payment"),
    "refund": gettext_lazy("Refund"),
    "subscription": gettext_lazy("Subscription"),
    "invoice": gettext_lazy("Invoice"),
    "receipt": gettext_lazy("Receipt"),
    "credit_note": gettext_lazy("Credit note"),
}


def status_words(kind: str, code: str) -> str:
    return str(STATUS_WORDS.get(kind, {}).get(code) or _("Other"))


@dataclass(frozen=True)
class Entry:
    kind: str  # charge, refund, subscription, document
    at: datetime
    what: str
    day: str
    amount: str
    status: str
    document_id: int | None = None
    document_number: str = ""
    charge_id: int | None = None


def _when(created: datetime | None, updated: datetime) -> datetime:
    return created or updated


def history_for_person(*, person_id: int) -> list[Entry]:
    """The whole timeline, newest first (amounts and days in the active language)."""
    entries: list[Entry] = []
    charges = Charge.objects.filter(customer__person_id=person_id, deleted=False).only(
        "pk", "gateway_created_at", "gateway_updated_at", "description", "product", "amount",
        "currency", "status",
    )  # fmt: skip
    for c in charges:
        at = _when(c.gateway_created_at, c.gateway_updated_at)
        entries.append(
            Entry(
                kind="charge", at=at, what=c.description or c.product or str(KIND_WORDS["charge"]),
                day=day_format(at), amount=money_format(c.amount, c.currency),
                status=status_words("charge", c.status), charge_id=c.pk,
            )
        )  # fmt: skip
    refunds = Refund.objects.filter(charge__customer__person_id=person_id, deleted=False)
    for r in refunds.select_related("charge").only(
        "gateway_created_at", "gateway_updated_at", "amount", "currency", "status",
        "charge__description", "charge__product",
    ):  # fmt: skip
        at = _when(r.gateway_created_at, r.gateway_updated_at)
        paid_for = r.charge.description or r.charge.product if r.charge else ""
        entries.append(
            Entry(
                kind="refund", at=at,
                what=_("Refund: %(what)s") % {"what": paid_for} if paid_for else _("Refund"),
                day=day_format(at), amount=money_format(r.amount, r.currency),
                status=status_words("refund", r.status),
            )
        )  # fmt: skip
    subscriptions = Subscription.objects.filter(customer__person_id=person_id, deleted=False)
    for s in subscriptions.only(
        "gateway_created_at", "gateway_updated_at", "product", "plan", "amount", "currency",
        "status",
    ):  # fmt: skip
        at = _when(s.gateway_created_at, s.gateway_updated_at)
        entries.append(
            Entry(
                kind="subscription", at=at, what=s.product or s.plan or _("Subscription"),
                day=day_format(at),
                amount=money_format(s.amount, s.currency) if s.currency else "",
                status=status_words("subscription", s.status),
            )
        )  # fmt: skip
    for d in documents_for_person(person_id=person_id):
        entries.append(
            Entry(
                kind="document", at=d.issued_at,
                what=f"{KIND_WORDS.get(d.kind, d.kind)} {d.number}",
                day=day_format(d.issued_at), amount=money_format(d.gross, d.currency),
                status=_("Issued"), document_id=d.pk, document_number=d.number,
            )
        )  # fmt: skip
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
