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
from django.db.models import Q

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


def customers_by_words(
    query_words_: Iterable[str], *, account_id: uuid.UUID | None = None, limit: int
) -> tuple[list[tuple[int, str, str]], bool]:
    """Persons whose customers carry a token starting with each word (all of them).

    Returns up to ``limit`` (person id, customer name, customer email) rows and whether there
    were more. One indexed query per word, intersected in the database.
    """
    wanted = list(query_words_)
    if not wanted:
        return [], False
    parts = []
    for word in wanted:
        # The token index alone: no join per token row (persons are checked on the few
        # customers kept).
        part = CustomerToken.objects.filter(token_prefix(word)).values_list(
            "customer_id", flat=True
        )
        if account_id is not None:
            part = part.filter(customer__account_id=account_id)
        parts.append(part)
    ids_query = parts[0].intersection(*parts[1:]) if len(parts) > 1 else parts[0].distinct()
    customer_ids = list(ids_query[: limit + 1])
    more = len(customer_ids) > limit
    rows = list(
        Customer.objects.filter(pk__in=customer_ids[:limit], person__isnull=False)
        .order_by("person_id", "pk")
        .values_list("person_id", "name", "email")
    )
    return [(pid, name, email) for pid, name, email in rows if pid is not None], more
