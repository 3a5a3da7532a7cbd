"""Writes to the billing mirror and to persons.

``mirror_upsert`` is the only way gateway objects enter the database, whether they come from
a backfill page or a webhook. It works a batch at a time (a few queries per page, not per
object), never lets an older version overwrite a newer one, and re-links references that
arrived before the object they point to.

The package is split by job; import from here, not from the modules:

- ``mirror``: ``mirror_upsert`` and its per-kind batch (``UpsertResult``);
- ``specs``: which mirror model holds each gateway kind, its references, a row's columns;
- ``ties``: the order of two versions stamped with the same time;
- ``derived``: state one object holds about another (disputed charges, cards, attempts);
- ``rows``: the hand-written bulk INSERT and UPDATE of mirror rows;
- ``links``: resolving references and re-linking rows that arrived before their target;
- ``persons``: matching customers to persons, and an agent's links and emails.
"""

from billingdesk.billing.services.mirror import UpsertResult, mirror_upsert
from billingdesk.billing.services.persons import (
    customers_match,
    person_add_email,
    person_link_customer,
    person_unlink_customer,
)

# The bulk writes, for the SQL parity tests (tests/sql/).
from billingdesk.billing.services.rows import _insert_rows as _insert_rows
from billingdesk.billing.services.rows import _update_rows as _update_rows

__all__ = [
    "UpsertResult",
    "customers_match",
    "mirror_upsert",
    "person_add_email",
    "person_link_customer",
    "person_unlink_customer",
]
