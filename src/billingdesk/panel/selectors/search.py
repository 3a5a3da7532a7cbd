"""Finding a person from what the agent types: an email (or part of one), a name in any order
and accents, a phone in the formats people type, a card's last 4, a gateway or order id.

Every lookup goes through an index (exact values, or a name prefix as an index range), never a
scan, so a search stays fast on a mirror of millions of rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import phonenumbers
from django.conf import settings

from billingdesk.billing.identity import normalize_email, normalize_last4, normalize_phone
from billingdesk.billing.models import (
    MATCH_CONFIDENCE,
    Charge,
    Customer,
    Invoice,
    MatchMethod,
    Person,
    Refund,
    Subscription,
)
from billingdesk.billing.name_tokens import (
    customer_tokens,
    customers_by_words,
    query_words,
    words,
)
from billingdesk.billing.selectors import person_resolve
from billingdesk.core.errors import InvalidRequest
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.search_filters import SearchFilters, persons_kept
from billingdesk.panel.selectors.accounts import ACCOUNT_SECRETS

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
            # Shops show an order as "#1042" (WooCommerce, Shopify): the number is 1042.
            resolve_args["order_id"] = text.removeprefix("#") or text
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
        .defer(*(f"account__{name}" for name in ACCOUNT_SECRETS))
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
