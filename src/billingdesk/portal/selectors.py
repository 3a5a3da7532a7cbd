"""What a person's billing history page shows: one timeline of their charges, refunds,
subscriptions and documents across every gateway account, newest first.

Every query starts from the person id (``customer__person_id``, ``person_id``): nothing here
can reach another person's rows. Entries carry plain values (translated words, formatted
amounts and dates in the active language) so templates only print them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import overload

from django.db import connection, connections
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billingdesk.billing.models import Charge, Customer, Refund, Subscription
from billingdesk.core.money import day_format, money_format
from billingdesk.documents.models import Document
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


_KINDS = ("charge", "refund", "subscription", "document")


@lru_cache(maxsize=8)
def _keys_sql(alias: str) -> str:
    """Every row of a person's timeline as (kind, id), newest first: one statement, built once
    from the models' tables and columns (the person id is its four parameters). Rows of the
    same moment come charges, refunds, subscriptions, documents, then newest id first."""
    # Only quoted table and column names from the models go into the text (``noqa: S608``).
    q = connections[alias].ops.quote_name

    def col(model: type[Model], name: str) -> str:
        column = str(getattr(model._meta.get_field(name), "column", ""))
        return f"{q(model._meta.db_table)}.{q(column)}"

    def when(model: type[Model]) -> str:
        return f"COALESCE({col(model, 'gateway_created_at')}, {col(model, 'gateway_updated_at')})"

    customers = q(Customer._meta.db_table)
    person = col(Customer, "person")
    charges = q(Charge._meta.db_table)
    parts = [
        f"SELECT 0 AS k, {col(Charge, 'id')} AS i, {when(Charge)} AS t FROM {charges} "  # noqa: S608
        f"INNER JOIN {customers} ON {col(Charge, 'customer')} = {col(Customer, 'id')} "
        f"WHERE {person} = %s AND NOT {col(Charge, 'deleted')}",
        f"SELECT 1, {col(Refund, 'id')}, {when(Refund)} FROM {q(Refund._meta.db_table)} "  # noqa: S608
        f"INNER JOIN {charges} ON {col(Refund, 'charge')} = {col(Charge, 'id')} "
        f"INNER JOIN {customers} ON {col(Charge, 'customer')} = {col(Customer, 'id')} "
        f"WHERE {person} = %s AND NOT {col(Refund, 'deleted')}",
        f"SELECT 2, {col(Subscription, 'id')}, {when(Subscription)} "  # noqa: S608
        f"FROM {q(Subscription._meta.db_table)} "
        f"INNER JOIN {customers} ON {col(Subscription, 'customer')} = {col(Customer, 'id')} "
        f"WHERE {person} = %s AND NOT {col(Subscription, 'deleted')}",
        f"SELECT 3, {col(Document, 'id')}, {col(Document, 'issued_at')} "  # noqa: S608
        f"FROM {q(Document._meta.db_table)} WHERE {col(Document, 'person')} = %s",
    ]
    return f"SELECT k, i FROM ({' UNION ALL '.join(parts)}) timeline ORDER BY t DESC, k, i DESC"  # noqa: S608


class Timeline(Sequence[Entry]):
    """A person's timeline, newest first, read in two steps so a long history stays cheap:
    the kind and id of every row (one statement, no model instances, no formatting), then,
    for the slice a page shows, those rows and their words and amounts in the active
    language."""

    def __init__(self, person_id: int) -> None:
        self.person_id = person_id
        with connection.cursor() as cursor:
            cursor.execute(_keys_sql(connection.alias), [person_id] * 4)
            self.keys: list[tuple[str, int]] = [(_KINDS[k], pk) for k, pk in cursor.fetchall()]

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, int):
            return self._entries([self.keys[index]])[0]
        return self._entries(self.keys[index])

    def _entries(self, keys: list[tuple[str, int]]) -> list[Entry]:
        wanted: dict[str, list[int]] = {}
        for kind, pk in keys:
            wanted.setdefault(kind, []).append(pk)
        built: dict[tuple[str, int], Entry] = {}
        if "charge" in wanted:
            for c in Charge.objects.filter(pk__in=wanted["charge"]).only(
                "pk", "gateway_created_at", "gateway_updated_at", "description", "product",
                "amount", "currency", "status",
            ):  # fmt: skip
                built["charge", c.pk] = _charge_entry(c)
        if "refund" in wanted:
            for r in (
                Refund.objects.filter(pk__in=wanted["refund"])
                .select_related("charge")
                .only("gateway_created_at", "gateway_updated_at", "amount", "currency",
                      "status", "charge__description", "charge__product")
            ):  # fmt: skip
                built["refund", r.pk] = _refund_entry(r)
        if "subscription" in wanted:
            for s in Subscription.objects.filter(pk__in=wanted["subscription"]).only(
                "gateway_created_at", "gateway_updated_at", "product", "plan", "amount",
                "currency", "status",
            ):  # fmt: skip
                built["subscription", s.pk] = _subscription_entry(s)
        if "document" in wanted:
            for d in documents_for_person(person_id=self.person_id).filter(
                pk__in=wanted["document"]
            ):
                built["document", d.pk] = _document_entry(d)
        return [built[kind, pk] for kind, pk in keys if (kind, pk) in built]


def _charge_entry(c: Charge) -> Entry:
    at = _when(c.gateway_created_at, c.gateway_updated_at)
    return Entry(
        kind="charge", at=at, what=c.description or c.product or str(KIND_WORDS["charge"]),
        day=day_format(at), amount=money_format(c.amount, c.currency),
        status=status_words("charge", c.status), charge_id=c.pk,
    )  # fmt: skip


def _refund_entry(r: Refund) -> Entry:
    at = _when(r.gateway_created_at, r.gateway_updated_at)
    paid_for = r.charge.description or r.charge.product if r.charge else ""
    return Entry(
        kind="refund", at=at,
        what=_("Refund: %(what)s") % {"what": paid_for} if paid_for else _("Refund"),
        day=day_format(at), amount=money_format(r.amount, r.currency),
        status=status_words("refund", r.status),
    )  # fmt: skip


def _subscription_entry(s: Subscription) -> Entry:
    at = _when(s.gateway_created_at, s.gateway_updated_at)
    return Entry(
        kind="subscription", at=at, what=s.product or s.plan or _("Subscription"),
        day=day_format(at), amount=money_format(s.amount, s.currency) if s.currency else "",
        status=status_words("subscription", s.status),
    )  # fmt: skip


def _document_entry(d: Document) -> Entry:
    return Entry(
        kind="document", at=d.issued_at, what=f"{KIND_WORDS.get(d.kind, d.kind)} {d.number}",
        day=day_format(d.issued_at), amount=money_format(d.gross, d.currency),
        status=_("Issued"), document_id=d.pk, document_number=d.number,
    )  # fmt: skip


def history_for_person(*, person_id: int) -> Timeline:
    """The whole timeline, newest first (amounts and days in the active language, worked out
    only for the rows read)."""
    return Timeline(person_id)
