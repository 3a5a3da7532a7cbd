"""Reads for the agent console and panel: finding a person, and everything shown about one.

Both stay fast on a mirror of millions of rows: every lookup goes through an index (exact
values, or a name prefix as an index range), never a scan, and ``panel_data`` runs the same
small number of queries whatever the person's history holds (the most recent rows of each
kind, with a flag saying there are more).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import F, Model, QuerySet

from billingdesk.actions.models import ActionRequest, AuditEntry
from billingdesk.billing.identity import normalize_email, normalize_last4, normalize_phone
from billingdesk.billing.models import (
    MATCH_CONFIDENCE,
    Charge,
    Customer,
    Dispute,
    Invoice,
    MatchMethod,
    PaymentMethod,
    Person,
    PersonEmail,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.billing.name_tokens import (
    customer_tokens,
    customers_by_words,
    query_words,
    words,
)
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.documents.models import Document
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.prepared import Query, run_all
from billingdesk.panel.search_filters import SearchFilters, persons_kept

# Rows of each kind the compact panel shows before its "more" link.
PANEL_ROWS = 10
# Rows of each kind the console's person page shows (a person rarely has more).
PERSON_PAGE_ROWS = 500
# Longest query worth looking up (an email address can be 320 characters).
MAX_QUERY_LENGTH = 320
# A name prefix matches weaker than a whole name: many people are called "Ana …".
NAME_PREFIX_CONFIDENCE = 25
# Some of the words of a name query matched (persons matching every word rank first).
NAME_SOME_WORDS_CONFIDENCE = 15
# A phone in national format read with a region other than DEFAULT_PHONE_REGION.
PHONE_GUESSED_CONFIDENCE = 60
# Persons a search counts and pages through; beyond, it says "more than".
MAX_MATCHES = 200
# Regions a national-format phone number is also read in (besides DEFAULT_PHONE_REGION);
# a number read so only matches customers of that country (or of none).
PHONE_SEARCH_REGIONS = (
    "US",
    "CA",
    "GB",
    "IE",
    "FR",
    "BE",
    "CH",
    "DE",
    "AT",
    "NL",
    "ES",
    "IT",
    "PT",
)


class QueryKind(StrEnum):
    """What a search box entry looks like; a query may be looked up as several kinds."""

    EMAIL = "email"
    PHONE = "phone number"
    CARD_LAST4 = "card last 4"
    ID = "id"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class PersonHit:
    person: Person
    confidence: int
    matched_by: str  # what matched, in words ("email", "order id", "name starts with")
    matched_on: str  # the value that matched
    customers: list[Customer] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    looked_up_as: tuple[QueryKind, ...]
    hits: list[PersonHit]  # this page's
    total: int = 0  # persons found (at most MAX_MATCHES)
    more: bool = False  # there are more than ``total`` (the lookups stopped at MAX_MATCHES)
    page: int = 1
    pages: int = 1
    account_id: str = ""  # the gateway account searched in ('' for all)


_LAST4 = re.compile(r"^[*•xX.\s-]*(\d{4})$")
_PHONE = re.compile(r"^\+?[\d\s().-]+$")


def query_kinds(query: str) -> tuple[QueryKind, ...]:
    """Decide what a (stripped, non-empty) query looks like, most specific first."""
    if "@" in query:
        return (QueryKind.EMAIL,)
    if _LAST4.match(query):
        # Four digits are most likely a card's last 4, but may be a short order number.
        return (QueryKind.CARD_LAST4, QueryKind.ID)
    digits = sum(ch.isdigit() for ch in query)
    if _PHONE.match(query) and 6 <= digits <= 15:
        return (QueryKind.PHONE, QueryKind.ID) if " " not in query else (QueryKind.PHONE,)
    if not any(ch.isspace() for ch in query) and (digits or "_" in query):
        # "theo_simon" may be an id or an e-mail's local part.
        return (QueryKind.ID, QueryKind.NAME) if not digits else (QueryKind.ID,)
    if any(ch.isalpha() for ch in query):
        return (QueryKind.NAME,)
    return ()


class _Found:
    """The strongest reason found so far for each person."""

    def __init__(self) -> None:
        self.best: dict[int, tuple[int, str, str]] = {}

    def add(self, person_ids: Iterable[int | None], confidence: int, by: str, on: str) -> None:
        for pid in person_ids:
            if pid is None:
                continue
            current = self.best.get(pid)
            if current is None or confidence > current[0]:
                self.best[pid] = (confidence, by, on)


def person_search(
    query: str,
    limit: int = 20,
    *,
    page: int = 1,
    account_id: str | None = None,
    filters: SearchFilters | None = None,
) -> SearchResult:
    """Every person the text may designate, most certain first, ``limit`` a page.

    ``account_id`` keeps the persons with a customer on that gateway account, ``filters``
    those with a subscription in a status or a charge in a period
    (``search_filters``). Counts up to
    ``MAX_MATCHES`` persons. Raises ``InvalidRequest`` (with a message for the agent) when the
    text cannot be looked up.
    """
    text = (query or "").strip()
    if not text:
        raise InvalidRequest(
            "Type an email, a name, a phone number, a card's last 4 digits or an id to search."
        )
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidRequest(f"That is too long to search for (at most {MAX_QUERY_LENGTH}).")
    kinds = query_kinds(text)
    if not kinds:
        raise InvalidRequest(
            f"Nothing to search for in {text!r}: type an email, a name, a phone number, "
            "a card's last 4 digits or an id."
        )
    if kinds == (QueryKind.EMAIL,) and not normalize_email(text) and not query_words(text):
        raise InvalidRequest(f"{text!r} is not an email address.")
    if page < 1:
        raise InvalidRequest("The page number must be 1 or more.")
    account = _account_or_error(account_id)

    found = _Found()
    truncated = False
    resolve_args: dict[str, Any] = {}
    for kind in kinds:
        if kind is QueryKind.EMAIL:
            if normalize_email(text):
                resolve_args["email"] = text
        elif kind is QueryKind.PHONE:
            if normalize_phone(text):
                resolve_args["phone"] = text
            _phones_national(found, text)
        elif kind is QueryKind.CARD_LAST4:
            resolve_args["card_last4"] = text
            _charges_by_last4(found, normalize_last4(text))
        elif kind is QueryKind.ID:
            # Charge, payment intent and order ids have indexes of their own; the other ids
            # are unique per account, so they are looked up through (account, gateway id).
            resolve_args["transaction_id"] = text
            resolve_args["order_id"] = text
            _ids_per_account(found, text)
        elif kind is QueryKind.NAME:
            truncated |= _names(found, text, limit, account)
    if resolve_args:
        for match in person_resolve(**resolve_args):
            found.add(
                [match.person.pk],
                match.confidence,
                MatchMethod(match.method).label,
                match.matched_on,
            )
    if QueryKind.EMAIL in kinds and not found.best:
        # Not a whole address, or nobody has it: its parts ("theo.simon@", "@acme.com").
        truncated |= _token_words(found, query_words(text), text, account)
    if account is not None:
        _keep_account(found, account)
    if filters:
        keep = persons_kept(list(found.best), filters)
        found.best = {pid: reason for pid, reason in found.best.items() if pid in keep}
    total = len(found.best)
    pages = max(1, -(-min(total, MAX_MATCHES) // limit))
    return SearchResult(
        query=text,
        looked_up_as=kinds,
        hits=_hits(found, limit, offset=(page - 1) * limit),
        total=min(total, MAX_MATCHES),
        more=truncated or total > MAX_MATCHES,
        page=page,
        pages=pages,
        account_id=str(account) if account is not None else "",
    )


def _account_or_error(account_id: str | None) -> uuid.UUID | None:
    if not account_id:
        return None
    try:
        account = uuid.UUID(str(account_id))
    except ValueError:
        raise InvalidRequest(f"{account_id!r} is not a gateway account.") from None
    if not GatewayAccount.objects.filter(pk=account).exists():
        raise InvalidRequest(f"{account_id!r} is not a gateway account.")
    return account


def _keep_account(found: _Found, account: uuid.UUID) -> None:
    """Only persons with a customer on that account (one indexed query)."""
    ids = list(found.best)
    keep = (
        set(
            Customer.objects.filter(person_id__in=ids, account_id=account).values_list(
                "person_id", flat=True
            )
        )
        if ids
        else set()
    )
    found.best = {pid: reason for pid, reason in found.best.items() if pid in keep}


def _phones_national(found: _Found, text: str) -> None:
    """A number typed without its country prefix ("06 08 38 63 79"), read in each plausible
    region; a reading only counts for customers of that region's country (or of none)."""
    if text.lstrip().startswith(("+", "00")):
        return
    default = settings.DEFAULT_PHONE_REGION.upper()
    readings: dict[str, set[str]] = {}
    for region in dict.fromkeys([default, *PHONE_SEARCH_REGIONS]):
        number = normalize_phone(text, region=region)
        if number and (region == default or _valid_phone(number)):
            readings.setdefault(number, set()).add(region)
    if not readings:
        return
    rows = Customer.objects.filter(
        phone_normalized__in=list(readings), person__isnull=False
    ).values_list("person_id", "phone_normalized", "country")[:MAX_MATCHES]
    for pid, number, country in rows:
        regions = readings.get(number, set())
        if default in regions or (country or "").upper() in regions:
            found.add([pid], MATCH_CONFIDENCE[MatchMethod.PHONE], "phone", number)
        elif not country:
            found.add([pid], PHONE_GUESSED_CONFIDENCE, "phone (region guessed)", number)


def _valid_phone(number: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _charges_by_last4(found: _Found, last4: str) -> None:
    """Cards seen on charges (some gateways mirror no payment methods)."""
    person_ids = (
        Charge.objects.filter(card_last4=last4, customer__person__isnull=False)
        .values_list("customer__person_id", flat=True)
        .distinct()[:50]
    )
    found.add(person_ids, MATCH_CONFIDENCE[MatchMethod.CARD_LAST4], "card last 4", last4)


def _ids_per_account(found: _Found, value: str) -> None:
    account_ids = list(GatewayAccount.objects.values_list("pk", flat=True))
    if not account_ids:
        return
    scoped = {"account_id__in": account_ids, "gateway_id": value}
    exact = MATCH_CONFIDENCE[MatchMethod.GATEWAY_ID]
    found.add(
        Customer.objects.filter(**scoped).values_list("person_id", flat=True),
        exact,
        "gateway customer id",
        value,
    )
    found.add(
        Subscription.objects.filter(**scoped).values_list("customer__person_id", flat=True),
        exact,
        "subscription id",
        value,
    )
    found.add(
        Invoice.objects.filter(**scoped).values_list("customer__person_id", flat=True),
        exact,
        "invoice id",
        value,
    )
    found.add(
        Refund.objects.filter(**scoped).values_list("charge__customer__person_id", flat=True),
        exact,
        "refund id",
        value,
    )
    found.add(
        Invoice.objects.filter(number=value).values_list("customer__person_id", flat=True)[:50],
        MATCH_CONFIDENCE[MatchMethod.ORDER_ID],
        "invoice number",
        value,
    )


def _names(found: _Found, text: str, limit: int, account: uuid.UUID | None) -> bool:
    """Persons whose names (or e-mail words) hold every word typed, in any order, whatever
    the accents and case, each word as a prefix, through the token index; when nobody holds
    them all, persons that hold some of them. True when there were more than ``MAX_MATCHES``."""
    wanted = query_words(text)
    if not wanted:
        return False
    before = len(found.best)
    truncated = _token_words(found, wanted, text, account)
    if len(wanted) > 1 and len(found.best) == before:
        # Nobody has every word (a typo, a word too many): those with some of them.
        for word in wanted:
            rows, _more = customers_by_words([word], account_id=account, limit=MAX_MATCHES)
            for pid, name, email in rows:
                found.add(
                    [pid], NAME_SOME_WORDS_CONFIDENCE, "some words of the name", name or email
                )
    return truncated


def _token_words(found: _Found, wanted: list[str], text: str, account: uuid.UUID | None) -> bool:
    """Persons with a token starting with each of ``wanted``: a whole name ranks as a name,
    whole words as "name", prefixes below."""
    rows, more = customers_by_words(wanted, account_id=account, limit=MAX_MATCHES)
    typed = " ".join(wanted)
    for pid, name, email in rows:
        tokens = customer_tokens(name, email)
        if " ".join(words(name)) == typed:
            found.add([pid], MATCH_CONFIDENCE[MatchMethod.NAME], "name", name)
        elif all(word in tokens for word in wanted):
            found.add([pid], MATCH_CONFIDENCE[MatchMethod.NAME] - 5, "name words", name or email)
        else:
            found.add([pid], NAME_PREFIX_CONFIDENCE, "name starts with", name or email)
    return more


def _hits(found: _Found, limit: int, offset: int = 0) -> list[PersonHit]:
    ranked = sorted(found.best.items(), key=lambda item: (-item[1][0], item[0]))
    ranked = ranked[offset : offset + limit]
    if not ranked:
        return []
    ids = [pid for pid, _ in ranked]
    persons = Person.objects.in_bulk(ids)
    customers: dict[int, list[Customer]] = {pid: [] for pid in ids}
    # The account is shown by name: its secrets are not loaded (nor decrypted, per row).
    with_accounts = (
        Customer.objects.filter(person_id__in=ids)
        .select_related("account")
        .defer(*(f"account__{name}" for name in _ACCOUNT_SECRETS))
    )
    for customer in with_accounts:
        if customer.person_id is not None:
            customers[customer.person_id].append(customer)
    return [
        PersonHit(
            person=persons[pid],
            confidence=confidence,
            matched_by=by,
            matched_on=on,
            customers=customers[pid],
        )
        for pid, (confidence, by, on) in ranked
        if pid in persons
    ]


# --- one person ---------------------------------------------------------------------------

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
                lambda ids: GatewayAccount.objects.filter(pk__in=ids).defer(*_ACCOUNT_SECRETS),
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
            .annotate(original_number=F("original__number"), original_kind=F("original__kind"))
            .order_by("-issued_at", "-id")[:limit]
        ),
    )


# Never loaded for display: decrypting them costs time and they must not reach a template.
_ACCOUNT_SECRETS = ("credentials", "webhook_secret")


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


# --- approvals ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Approvals:
    pending: list[ActionRequest]  # oldest first: first asked, first decided
    decided: list[ActionRequest]  # the latest decisions


def pending_approvals(
    *, limit: int = 200, decided: int = 20, requested_by: Any = None
) -> Approvals:
    """Requests waiting for approval and the latest decisions (only one agent's, if given)."""
    rows = ActionRequest.objects.select_related("requested_by", "approved_by", "person", "account")
    if requested_by is not None:
        rows = rows.filter(requested_by=requested_by)
    return Approvals(
        pending=list(
            rows.filter(status=ActionRequest.Status.PENDING_APPROVAL).order_by("created_at")[:limit]
        ),
        decided=list(rows.filter(decided_at__isnull=False).order_by("-decided_at")[:decided]),
    )
