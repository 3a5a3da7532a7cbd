"""Search words of customers: what lets a name be found by any part, in any order, whatever
its accents and case.

Each customer has one ``CustomerToken`` row per word of its name and of its e-mail's local
part (split on spaces, ``.``, ``_``, ``-``, ``+``), folded (NFKD, combining marks dropped,
case-folded), plus ``@domain`` for its e-mail's domain. A query word matches a token it
starts, looked up through the token index as a prefix.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from billingdesk.billing.models import Customer, CustomerToken, Mirrored

TOKEN_LENGTH = 64
_SEPARATORS = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, accent-free form of a text ("Côté" -> "cote")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The folded words of a text, split on spaces and punctuation, in order, once each."""
    seen: dict[str, None] = {}
    for word in _SEPARATORS.split(fold(text or "")):
        if word:
            seen.setdefault(word[:TOKEN_LENGTH], None)
    return list(seen)


def query_words(text: str) -> list[str]:
    """The words of a search query: for text with an ``@``, the local part's words and the
    domain (or its beginning) as ``@domain``."""
    local, at, domain = (text or "").strip().rpartition("@")
    if not at:
        return words(text)
    found = words(local)
    domain = fold(domain.strip())
    if domain:
        found.append(f"@{domain}"[:TOKEN_LENGTH])
    return found


def customer_tokens(name: str, email: str) -> set[str]:
    tokens = set(words(name))
    local, at, domain = (email or "").strip().rpartition("@")
    if at:
        tokens.update(words(local))
        domain = fold(domain.strip())
        if domain:
            tokens.add(f"@{domain}"[:TOKEN_LENGTH])
    return tokens


def customer_tokens_refresh(customers: Sequence[Customer | Mirrored]) -> None:
    """Rewrite the search words of these customers (two statements per batch)."""
    pks = [c.pk for c in customers if c.pk is not None]
    if not pks:
        return
    CustomerToken.objects.filter(customer_id__in=pks).delete()
    CustomerToken.objects.bulk_create(
        [
            CustomerToken(customer_id=c.pk, token=token)
            for c in customers
            if c.pk is not None
            for token in sorted(customer_tokens(getattr(c, "name", ""), getattr(c, "email", "")))
        ],
        batch_size=1000,
    )


def token_prefix(word: str, field: str = "token") -> Q:
    """Tokens starting with ``word``, in a form the token index serves on this database."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": word})  # LIKE 'w%' on the pattern-ops index
    # SQLite compares bytes: every string starting with ``word`` sorts below word + U+10FFFF.
    return Q(**{f"{field}__gte": word, f"{field}__lt": word + "\U0010ffff"})


# A word's customers read at once (its tokens, from the (token, customer) index alone); a
# word with more is only checked on the customers of the rarer words.
WORD_CUSTOMERS_READ = 2000


def customers_by_words(
    query_words_: Iterable[str], *, account_id: uuid.UUID | None = None, limit: int
) -> tuple[list[tuple[int, str, str]], bool]:
    """Persons whose customers carry a token starting with each word (all of them).

    Returns up to ``limit`` (person id, customer name, customer email) rows and whether there
    were more. The work is bounded by the rarest word, not the commonest: each word's
    customers are read up to ``WORD_CUSTOMERS_READ`` (an index-only range each); the complete
    sets of the rare words are intersected, then checked against their customers' tokens for
    the common words. When every word is common ("ana lopez" among millions), the first
    word's customers are read with an ``EXISTS`` per other word, stopping after ``limit``.
    """
    wanted = list(dict.fromkeys(query_words_))
    if not wanted:
        return [], False
    read = {word: _word_customers(word) for word in wanted}
    complete = [ids for ids in read.values() if len(ids) <= WORD_CUSTOMERS_READ]
    if not complete:
        return _rows_of(_every_word_common(wanted, account_id, limit), account_id, limit)
    found = set.intersection(*(set(ids) for ids in complete))
    common = [w for w, ids in read.items() if len(ids) > WORD_CUSTOMERS_READ]
    return _rows_of(sorted(_having_every_word(found, common)), account_id, limit)


def _word_customers(word: str) -> list[int]:
    """Ids of customers with a token starting with ``word``, up to ``WORD_CUSTOMERS_READ + 1``
    (a customer twice if two of its tokens start so)."""
    return list(
        CustomerToken.objects.filter(token_prefix(word)).values_list("customer_id", flat=True)[
            : WORD_CUSTOMERS_READ + 1
        ]
    )


def _having_every_word(customer_ids: set[int], words_: list[str]) -> set[int]:
    """Those of ``customer_ids`` with a token starting with each of ``words_`` (one query
    on the customer index for them all)."""
    if not words_ or not customer_ids:
        return customer_ids
    tokens: dict[int, list[str]] = {}
    for customer_id, token in CustomerToken.objects.filter(
        customer_id__in=list(customer_ids)
    ).values_list("customer_id", "token"):
        tokens.setdefault(customer_id, []).append(token)
    return {
        cid
        for cid, held in tokens.items()
        if all(any(token.startswith(word) for token in held) for word in words_)
    }


def _every_word_common(words_: list[str], account_id: uuid.UUID | None, limit: int) -> list[int]:
    """Customers of the first word that have the others (an ``EXISTS`` each, through the
    customer index), more than ``limit`` of them if there are: the database stops early."""
    rows = CustomerToken.objects.filter(token_prefix(words_[0]))
    for word in words_[1:]:
        rows = rows.filter(
            Exists(
                CustomerToken.objects.filter(customer_id=OuterRef("customer_id")).filter(
                    token_prefix(word)
                )
            )
        )
    if account_id is not None:
        rows = rows.filter(
            Exists(Customer.objects.filter(pk=OuterRef("customer_id"), account_id=account_id))
        )
    # A customer comes once per token that starts the word (rarely twice): a few rows more.
    ids = rows.values_list("customer_id", flat=True)[: limit + 1 + limit // 10]
    return sorted(set(ids))


def _rows_of(
    customer_ids: list[int], account_id: uuid.UUID | None, limit: int
) -> tuple[list[tuple[int, str, str]], bool]:
    rows = Customer.objects.filter(pk__in=customer_ids, person__isnull=False)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    found = list(rows.order_by("person_id", "pk").values_list("person_id", "name", "email"))
    kept = [(pid, name, email) for pid, name, email in found if pid is not None]
    return kept[:limit], len(kept) > limit
