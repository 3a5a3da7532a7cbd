"""Everything shown about one person: their gateway records and the most recent rows of each
kind, with a flag saying there are more.

``panel_data`` runs the same small number of queries whatever the person's history holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from billingdesk.actions.models import ActionKind, ActionRequest, AuditEntry
from billingdesk.billing.models import (
    Charge,
    Customer,
    Dispute,
    Invoice,
    PaymentMethod,
    Person,
    PersonEmail,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.core.errors import NotFound
from billingdesk.core.money import parse_amount
from billingdesk.documents.models import Document
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.prepared import Query, run_all
from billingdesk.panel.selectors.accounts import ACCOUNT_SECRETS
from billingdesk.panel.selectors.duplicates import duplicates_mark

# Rows of each kind the compact panel shows before its "more" link.
PANEL_ROWS = 10
# Rows of each kind the console's person page shows (a person rarely has more).
PERSON_PAGE_ROWS = 500
# A document issued this recently is probably what the ticket is about ("resend my
# invoice", "correct my invoice"): the documents then come first, open.
DOCUMENTS_FIRST_WITHIN = timedelta(days=14)

RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True, slots=True)
class Section(Generic[RowT]):
    """The most recent rows of one kind; ``more`` when older ones were left out."""

    rows: list[RowT]
    more: bool


@dataclass(frozen=True, slots=True)
class PanelData:
    person: Person
    secondary_emails: list[str]
    # Each gateway record of the person, with its account (name, kind, dashboard_url) and how
    # it was matched (match_method, match_confidence).
    customers: list[Customer]
    charges: Section[Charge]
    refunds: Section[Refund]
    subscriptions: Section[Subscription]
    invoices: Section[Invoice]
    disputes: Section[Dispute]
    # The last agent actions on this person, newest first.
    actions: list[AuditEntry]
    # Only on the person page (``full=True``): cards on file. Tax ids everywhere.
    cards: list[PaymentMethod]
    tax_ids: list[TaxId]
    limit: int
    # Only when asked for (the compact panel): the person's latest documents.
    documents: list[Document] = field(default_factory=list)


def _newest_first(qs: QuerySet[RowT], limit: int) -> QuerySet[RowT]:
    # Plain DESC (no NULLS LAST) so that the (customer, gateway_created_at) indexes can return
    # the newest rows in order and stop after ``limit``; the raw payload is never shown.
    return qs.defer("raw").order_by("-gateway_created_at", "-id")[: limit + 1]


def _section(rows: list[RowT], limit: int) -> Section[RowT]:
    return Section(rows=rows[:limit], more=len(rows) > limit)


def panel_data(
    person_id: int, *, limit: int = PANEL_ROWS, full: bool = False, documents: bool = False
) -> PanelData:
    """Everything shown about one person, in a fixed number of queries (``documents``: also
    the person's latest documents, for the compact panel).

    Each query is indexed and compiled once per process (see ``prepared``); they go in two
    batches, what hangs off the person and then what hangs off their gateway records (on
    PostgreSQL one round trip each). Raises ``NotFound`` for an unknown person.
    """
    one = [person_id]
    by_person: list[Query[Any]] = [
        Query("person", one, lambda ids: Person.objects.filter(pk__in=ids)),
        Query(
            "customers",
            one,
            lambda ids: (
                Customer.objects.filter(person_id__in=ids)
                .defer("raw")
                .order_by("account__name", "gateway_id")
            ),
        ),
        Query(
            "emails",
            one,
            lambda ids: PersonEmail.objects.filter(person_id__in=ids).only("email").order_by("id"),
        ),
        Query(
            f"actions{limit}",
            one,
            lambda ids: AuditEntry.objects.filter(person_id__in=ids).order_by("-seq")[:limit],
        ),
    ]
    if documents:
        by_person.append(_documents_query(one, limit))
    found, customers, emails, actions, *docs = run_all(*by_person)
    if not found:
        raise NotFound(f"There is no person {person_id}.")
    _tax_ids_of_actions(actions)
    by_id = {c.pk: c for c in customers}
    cids = list(by_id)
    empty: Section[Any] = Section(rows=[], more=False)
    charges, refunds, subscriptions, invoices, disputes = empty, empty, empty, empty, empty
    accounts: dict[Any, GatewayAccount] = {}
    cards: list[PaymentMethod] = []
    tax_ids: list[TaxId] = []
    if cids:
        # By the records' ids as values, not a subquery: the planners then know how many
        # rows each record has and walk the (record, created) indexes newest first,
        # stopping after the limit even for a record with thousands of charges.
        rows = run_all(
            Query(
                "accounts",
                [_account_key(c.account_id) for c in customers if c.account_id],
                lambda ids: GatewayAccount.objects.filter(pk__in=ids).defer(*ACCOUNT_SECRETS),
            ),
            Query(
                f"charges{limit}",
                cids,
                # Not the attempts a charge superseded (``deleted``): one payment, not two.
                lambda ids: _newest_first(
                    Charge.objects.filter(customer_id__in=ids, deleted=False), limit
                ),
            ),
            # Refunds and disputes are found through the person's charge ids (an index probe
            # each), never by scanning their tables and joining.
            Query(
                f"refunds{limit}",
                cids,
                lambda ids: _newest_first(
                    Refund.objects.filter(charge_id__in=_charges(ids)), limit
                ),
            ),
            Query(
                f"subscriptions{limit}",
                cids,
                lambda ids: _newest_first(Subscription.objects.filter(customer_id__in=ids), limit),
            ),
            Query(
                f"invoices{limit}",
                cids,
                lambda ids: _newest_first(Invoice.objects.filter(customer_id__in=ids), limit),
            ),
            Query(
                f"disputes{limit}",
                cids,
                lambda ids: _newest_first(
                    Dispute.objects.filter(charge_id__in=_charges(ids)), limit
                ),
            ),
            # The documents we issued for the charges shown (receipts, invoices, credit
            # notes), through the charge index: linked on each charge's row.
            Query(
                f"charge_documents{limit}",
                cids,
                lambda ids: _charge_documents(
                    Charge.objects.filter(customer_id__in=ids, deleted=False)
                    .order_by("-gateway_created_at", "-id")
                    .values("pk")[: limit + 1]
                ),
            ),
            Query(
                "tax_ids",
                cids,
                lambda ids: (
                    TaxId.objects.filter(customer_id__in=ids, deleted=False)
                    .defer("raw")
                    .order_by("-gateway_created_at", "-id")
                ),
            ),
        )
        accounts = {a.pk: a for a in rows[0]}
        tax_ids = rows[-1]
        charges, refunds, subscriptions, invoices, disputes = (
            _section(section, limit) for section in rows[1:-2]
        )
        charge_documents_attach(charges.rows, rows[-2])
        if full:
            cards = list(
                PaymentMethod.objects.filter(customer_id__in=cids, deleted=False).defer("raw")
            )
        charge_invoices_attach(charges.rows, invoices.rows, subscriptions.rows)
        duplicates_mark(charges.rows)

    # Rows get their account from the one query above instead of a join in each query.
    for section_rows in (
        customers,
        charges.rows,
        refunds.rows,
        subscriptions.rows,
        invoices.rows,
        disputes.rows,
        cards,
        tax_ids,
    ):
        _attach_accounts(section_rows, accounts)
    for charge in charges.rows:
        if charge.customer_id in by_id:
            charge.customer = by_id[charge.customer_id]

    return PanelData(
        person=found[0],
        secondary_emails=[row.email for row in emails],
        customers=customers,
        charges=charges,
        refunds=refunds,
        subscriptions=subscriptions,
        invoices=invoices,
        disputes=disputes,
        actions=actions,
        cards=cards,
        tax_ids=tax_ids,
        limit=limit,
        documents=docs[0] if docs else [],
    )


def documents_first(documents: Iterable[Document]) -> bool:
    """Whether the person's documents matter most now: one was issued in the last
    ``DOCUMENTS_FIRST_WITHIN`` for a recent sale or refund (what a "resend my invoice"
    ticket asks about), or replaces an earlier one (the invoice re-issued with the VAT number
    the customer gave). Documents issued today for old payments (an import, the demo's
    history) do not count."""
    now = timezone.now()
    since, since_day = now - DOCUMENTS_FIRST_WITHIN, (now - DOCUMENTS_FIRST_WITHIN).date()
    return any(
        doc.issued_at >= since
        and (doc.supply_date >= since_day or (_replaces(doc) and doc.kind != "credit_note"))
        for doc in documents
    )


def _replaces(doc: Document) -> bool:
    if hasattr(doc, "original_number"):  # the panel's query: the original's number only
        return doc.original_number is not None
    return doc.original_id is not None


def _tax_ids_of_actions(entries: list[AuditEntry]) -> None:
    """Give "add tax id" entries the type and value their request added (``tax_type``,
    ``tax_value``), so their line can say which number (one query, only when there are)."""
    wanted = {
        e.request_id: e
        for e in entries
        if e.action == ActionKind.ADD_TAX_ID and e.request_id is not None
    }
    if not wanted:
        return
    params = dict(ActionRequest.objects.filter(pk__in=list(wanted)).values_list("pk", "params"))
    for entry in entries:
        request_params = params.get(entry.request_id) if entry.request_id else None
        if isinstance(request_params, dict):
            entry.tax_type = str(request_params.get("tax_type", ""))  # type: ignore[attr-defined]
            entry.tax_value = str(request_params.get("value", ""))  # type: ignore[attr-defined]


def _documents_query(ids: list[int], limit: int) -> Query[Document]:
    """The person's latest documents, newest first (``documents_for_person``'s filter and
    order), each with ``original_number``, the number of the document it corrects (None if
    none), instead of the whole original."""
    return Query(
        f"documents{limit}",
        ids,
        lambda ids: (
            Document.objects.filter(person_id__in=ids)
            .only("kind", "number", "issued_at", "supply_date", "currency", "gross")
            .annotate(original_number=F("original__number"), original_kind=F("original__kind"))
            .order_by("-issued_at", "-id")[:limit]
        ),
    )


def _charge_documents(charge_ids: Any) -> QuerySet[Document]:
    """Our documents of these charges (ids or a subquery of them), oldest first."""
    return (
        Document.objects.filter(charge_id__in=charge_ids)
        .only("kind", "number", "charge_id", "issued_at")
        .order_by("issued_at", "id")
    )


def charge_documents_attach(charges: list[Charge], known: Iterable[Document] | None = None) -> None:
    """Give each charge ``own_documents``: the invoices, receipts and credit notes we issued
    for it, oldest first (``known``: already read; else one indexed query)."""
    if known is None:
        known = _charge_documents([c.pk for c in charges]) if charges else []
    by_charge: dict[int, list[Document]] = {}
    for document in known:
        if document.charge_id is not None:
            by_charge.setdefault(document.charge_id, []).append(document)
    for charge in charges:
        charge.own_documents = by_charge.get(charge.pk, [])  # type: ignore[attr-defined]


def _charges(customer_ids: list[int]) -> QuerySet[Charge, Any]:
    return Charge.objects.filter(customer_id__in=customer_ids).values("pk")


def _account_key(account_id: Any) -> Any:
    """An account id as the database driver takes it (raw SQL skips the field's conversion)."""
    return GatewayAccount._meta.pk.get_db_prep_value(account_id, connection)  # type: ignore[union-attr]


def _attach_accounts(rows: Iterable[Any], accounts: dict[Any, GatewayAccount]) -> None:
    for row in rows:
        account = accounts.get(row.account_id)
        if account is not None:
            row.account = account


def charge_invoices_attach(
    charges: list[Charge],
    known: Iterable[Invoice] = (),
    known_subscriptions: Iterable[Subscription] = (),
) -> None:
    """Give each charge ``paid_invoice``: the gateway invoice it paid (with its subscription's
    plan and period), or None, so a row says what the charge was for. Invoices and
    subscriptions already loaded are reused; the others come in one indexed query each."""
    by_id = {inv.pk: inv for inv in known}
    missing = {c.invoice_id for c in charges if c.invoice_id and c.invoice_id not in by_id}
    if missing:
        by_id.update(Invoice.objects.filter(pk__in=missing).defer("raw").in_bulk())
    subscriptions = {sub.pk: sub for sub in known_subscriptions}
    subscription_ids = {
        inv.subscription_id
        for inv in by_id.values()
        if inv.subscription_id is not None and inv.subscription_id not in subscriptions
    }
    if subscription_ids:
        subscriptions.update(
            Subscription.objects.filter(pk__in=subscription_ids)
            .only("product", "plan", "interval", "interval_count")
            .in_bulk()
        )
    for charge in charges:
        invoice = by_id.get(charge.invoice_id) if charge.invoice_id else None
        if invoice is not None and invoice.subscription_id is not None:
            invoice.plan_subscription = subscriptions.get(invoice.subscription_id)  # type: ignore[attr-defined]
        charge.paid_invoice = invoice  # type: ignore[attr-defined]


def charges_older(
    person_id: int, *, before: int | None = None, text: str = "", limit: int = PANEL_ROWS
) -> Section[Charge]:
    """A person's charges older than charge ``before`` (newest first), optionally only those
    whose description, product, ids or amount contain ``text``: the panel's "older charges"
    and its search within the person. Raises ``NotFound`` for an unknown person."""
    if not Person.objects.filter(pk=person_id).exists():
        raise NotFound(f"There is no person {person_id}.")
    customers = {
        c.pk: c
        for c in Customer.objects.filter(person_id=person_id)
        .select_related("account")
        .defer("raw", *(f"account__{name}" for name in ACCOUNT_SECRETS))
    }
    rows = Charge.objects.filter(customer_id__in=list(customers), deleted=False)
    if before is not None:
        anchor = rows.filter(pk=before).values_list("gateway_created_at", flat=True).first()
        if anchor is None:
            return Section(rows=[], more=False)
        rows = rows.filter(
            Q(gateway_created_at__lt=anchor) | Q(gateway_created_at=anchor, pk__lt=before)
        )
    if text:
        match = (
            Q(description__icontains=text)
            | Q(product__icontains=text)
            | Q(gateway_id__icontains=text)
            | Q(order_id__icontains=text)
            | Q(invoice__number__icontains=text)
        )
        if any(ch.isdigit() for ch in text):
            # An amount as typed ("49.90", "49,90") in each currency the person paid in.
            for currency in set(rows.values_list("currency", flat=True).distinct()[:10]):
                try:
                    amount = parse_amount(text, currency)
                except ValueError:
                    continue
                match |= Q(amount=amount, currency=currency)
        rows = rows.filter(match)
    found = list(_newest_first(rows, limit))
    for charge in found:
        assert charge.customer_id is not None  # filtered on it
        charge.customer = customers[charge.customer_id]
        charge.account = charge.customer.account
    section = _section(found, limit)
    charge_invoices_attach(section.rows)
    charge_documents_attach(section.rows)
    duplicates_mark(section.rows)
    return section


def panel_data_of_charges(person_id: int, charges: Section[Charge]) -> PanelData:
    """A ``PanelData`` holding only ``charges``: what the row renderers and ``offer_actions``
    take, for the panel's older charges."""
    empty: Section[Any] = Section(rows=[], more=False)
    return PanelData(
        person=Person(pk=person_id),
        secondary_emails=[],
        customers=[],
        charges=charges,
        refunds=empty,
        subscriptions=empty,
        invoices=empty,
        disputes=empty,
        actions=[],
        cards=[],
        tax_ids=[],
        limit=PANEL_ROWS,
    )
