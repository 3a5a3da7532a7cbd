"""Everything shown about one person: their gateway records and the most recent rows of each
kind, with a flag saying there are more.

``panel_data`` runs the same small number of queries whatever the person's history holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import F, Model, QuerySet

from billingdesk.actions.models import AuditEntry
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
from billingdesk.documents.models import Document
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.prepared import Query, run_all
from billingdesk.panel.selectors.accounts import ACCOUNT_SECRETS

# Rows of each kind the compact panel shows before its "more" link.
PANEL_ROWS = 10
# Rows of each kind the console's person page shows (a person rarely has more).
PERSON_PAGE_ROWS = 500

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
    # Only on the person page (``full=True``): cards on file and tax ids.
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
        )
        accounts = {a.pk: a for a in rows[0]}
        charges, refunds, subscriptions, invoices, disputes = (
            _section(section, limit) for section in rows[1:]
        )
        if full:
            cards = list(
                PaymentMethod.objects.filter(customer_id__in=cids, deleted=False).defer("raw")
            )
            tax_ids = list(TaxId.objects.filter(customer_id__in=cids, deleted=False).defer("raw"))

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


def _documents_query(ids: list[int], limit: int) -> Query[Document]:
    """The person's latest documents, newest first (``documents_for_person``'s filter and
    order), each with ``original_number``, the number of the document it corrects (None if
    none), instead of the whole original."""
    return Query(
        f"documents{limit}",
        ids,
        lambda ids: (
            Document.objects.filter(person_id__in=ids)
            .only("kind", "number", "issued_at", "currency", "gross")
            .annotate(original_number=F("original__number"))
            .order_by("-issued_at", "-id")[:limit]
        ),
    )


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
