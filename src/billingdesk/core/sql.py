"""Hand-written SQL: the one module for statements built by hand instead of by the ORM.

Some hot paths cost more in the ORM's query compilation than in the database itself, so
they send SQL built once from the models' own metadata (quoted table and column names,
values always parameters, adapted by each field's ``get_db_prep_save``). Every such
statement must give what the ORM gives, on SQLite and PostgreSQL alike: the parity tests in
``tests/sql/`` hold each one to its ORM equivalent, including out-of-range integers, NUL
bytes and empty batches.

Sites still to move here (their modules are being changed in parallel work):
``billing.services.rows`` (``_insert_rows``, ``_update_rows``), ``billing.services.links``
(the relink ``UPDATE``),
``gateways.webhooks.intake`` (``_intake_sql``, ``_store``, ``_insert_prepared``) and
``panel.prepared`` (querysets compiled once, re-run on a cursor).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connections
from django.db.models import Model


@lru_cache(maxsize=64)
def column_lookup_sql(alias: str, model: type[Model], column: str, key: str) -> str:
    """``SELECT <column> FROM <table> WHERE <key> = %s``, for a lookup on a unique key.

    Cached per database alias (quoting differs between vendors) and model; field names are
    turned into their columns and quoted, the key's value is the one parameter.
    """
    meta = model._meta
    quote = connections[alias].ops.quote_name
    selected, where = (str(getattr(meta.get_field(n), "column", "")) for n in (column, key))
    # Names from the model's own metadata; the value is a parameter.
    return f"SELECT {quote(selected)} FROM {quote(meta.db_table)} WHERE {quote(where)} = %s"  # noqa: S608
