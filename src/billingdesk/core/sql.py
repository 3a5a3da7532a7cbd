"""Hand-written SQL: the one module for statements built by hand instead of by the ORM.

Some hot paths cost more in the ORM's query compilation than in the database itself, so
they send SQL built once from the models' own metadata (quoted table and column names,
values always parameters, adapted by each field's ``get_db_prep_save``). Every such
statement must give what the ORM gives, on SQLite and PostgreSQL alike: the parity tests in
``tests/sql/`` hold each one to its ORM equivalent, including out-of-range integers, NUL
bytes and empty batches.

The kernel imports no app: the statements take the models (and their field names) as
arguments. Users: ``accounts.selectors`` (``column_lookup_sql``), the mirror's bulk writes
(``rows_insert``, ``rows_update``, ``relink_sql``: ``billing.services.rows`` and ``links``),
webhook intake (``intake_sql``, ``insert_prepared``: ``gateways.webhooks.intake``).
Still outside: ``panel.prepared`` (querysets compiled once by the ORM and re-run on a cursor;
the panel is being split in parallel work) and the two card/invoice ``UPDATE``s of
``billing.services.derived``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connections, models, router
from django.db.models import Model

# ``noqa: S608`` below: only quoted table and column names from the models' metadata go into
# the statements' text; every value is a parameter.


@lru_cache(maxsize=64)
def column_lookup_sql(alias: str, model: type[Model], column: str, key: str) -> str:
    """``SELECT <column> FROM <table> WHERE <key> = %s``, for a lookup on a unique key.

    Cached per database alias (quoting differs between vendors) and model; field names are
    turned into their columns and quoted, the key's value is the one parameter.
    """
    meta = model._meta
    quote = connections[alias].ops.quote_name
    selected, where = (str(getattr(meta.get_field(n), "column", "")) for n in (column, key))
    return f"SELECT {quote(selected)} FROM {quote(meta.db_table)} WHERE {quote(where)} = %s"  # noqa: S608


# --- bulk writes of rows the application built itself ------------------------------------
def rows_insert(model: type[Model], rows: Sequence[Model]) -> None:
    """Insert ``rows`` (every concrete field but the primary key) with one prepared
    ``INSERT`` run for the batch (``executemany``); what ``bulk_create`` stores, without
    compiling every value through the ORM's expressions. The caller reads the ids back."""
    connection = connections[router.db_for_write(model)]
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    params = db_values(connection, columns, rows, adding=True)
    if not params:
        return
    if connection.vendor == "postgresql":
        _copy_in(connection, model._meta.db_table, [str(f.column) for f in columns], params)
        return
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(connection.alias, model), params)


def _copy_in(connection: Any, table: str, columns: list[str], params: list[list[Any]]) -> None:
    """``COPY <table> (<columns>) FROM STDIN``: PostgreSQL's bulk load, one statement for the
    batch (Django's cursors bind on the client, so ``executemany`` sends, parses and plans one
    statement per row). Values are dumped by the driver as for any query; the database's
    errors (a NUL byte, an integer out of range) are raised as Django's, as the ORM's are."""
    quote = connection.ops.quote_name
    statement = "COPY {} ({}) FROM STDIN".format(quote(table), ", ".join(quote(c) for c in columns))
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for values in params:
            copy.write_row(values)


@lru_cache(maxsize=64)
def _insert_sql(alias: str, model: type[Model]) -> str:
    quote = connections[alias].ops.quote_name
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(str(f.column)) for f in columns),
        ", ".join(["%s"] * len(columns)),
    )


def rows_update(model: type[Model], rows: Sequence[Model], names: list[str]) -> None:
    """Write these fields of existing rows with one prepared ``UPDATE … WHERE pk`` per row
    (``executemany``): what ``bulk_update`` writes, without its ``CASE WHEN`` per row and
    field built through the ORM."""
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    columns = [f for f in (opts.get_field(name) for name in names) if isinstance(f, models.Field)]
    quote = connection.ops.quote_name
    assert opts.pk is not None and len(columns) == len(names)
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(opts.db_table),
        ", ".join(f"{quote(str(f.column))} = %s" for f in columns),
        quote(str(opts.pk.column)),
    )
    params = db_values(connection, columns, rows, adding=False)
    for values, row in zip(params, rows, strict=True):
        values.append(row.pk)
    if not params:
        return
    if connection.vendor == "postgresql":
        _update_from_copy(connection, model, [str(f.column) for f in columns], params)
        return
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _update_from_copy(
    connection: Any, model: type[Model], columns: list[str], params: list[list[Any]]
) -> None:
    """On PostgreSQL: the new values ``COPY``'d into a temporary table of the same column
    types, then one ``UPDATE … FROM`` it (four statements a batch instead of one a row).
    A row given twice keeps its last values, as one ``UPDATE`` a row would."""
    opts = model._meta
    assert opts.pk is not None
    quote = connection.ops.quote_name
    table, pk = quote(opts.db_table), quote(str(opts.pk.column))
    temp_name = f"_bd_update_{opts.db_table}"
    temp = quote(temp_name)
    names = [quote(c) for c in columns]
    last = {values[-1]: values for values in params}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} AS SELECT {pk}, {', '.join(names)} "  # noqa: S608
            f"FROM {table} WITH NO DATA"
        )
        _copy_in(connection, temp_name, [*columns, str(opts.pk.column)], list(last.values()))
        cursor.execute(
            f"UPDATE {table} SET {', '.join(f'{n} = t.{n}' for n in names)} "  # noqa: S608
            f"FROM {temp} t WHERE {table}.{pk} = t.{pk}"
        )
        cursor.execute(f"DROP TABLE {temp}")


def db_values(
    connection: Any,
    columns: Sequence[models.Field[Any, Any]],
    rows: Sequence[Model],
    *,
    adding: bool,
) -> list[list[Any]]:
    """Each row's database values for these columns: plain values as they are, the rest
    through their field's ``get_db_prep_save``; ``auto_now`` fields stamped on insert."""
    postgres = connection.vendor == "postgresql"
    plan = [
        (
            f, f.attname, _passthrough_type(f),
            adding and getattr(f, "auto_now", False),
            # PostgreSQL takes an aware datetime as it is (Django's adapter returns it
            # unchanged); a naive one still goes through the field (made aware, warned).
            postgres and type(f) is models.DateTimeField,
        )
        for f in columns
    ]  # fmt: skip
    params = []
    for row in rows:
        values = []
        for f, attname, exact, auto_now, aware_ok in plan:
            value = f.pre_save(row, True) if auto_now else getattr(row, attname)
            if aware_ok and type(value) is datetime and value.tzinfo is not None:
                pass
            elif exact is None or (value is not None and type(value) is not exact):
                value = f.get_db_prep_save(value, connection)
            values.append(value)
        params.append(values)
    return params


# Field classes whose database value is the Python value itself, when it has this exact type
# (the same on SQLite and PostgreSQL): the bulk of a mirror row. Anything else (dates, JSON,
# UUIDs, a subclass with its own conversion) goes through the field's get_db_prep_save.
_PASSTHROUGH: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
}


def _passthrough_type(field: models.Field[Any, Any]) -> type | None:
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return int if type(target) in (models.AutoField, models.BigAutoField) else None
    return _PASSTHROUGH.get(type(field))


@lru_cache(maxsize=128)
def relink_sql(alias: str, referrer: type[Model], fk: str, target: type[Model]) -> str:
    """Point ``referrer`` rows of one account whose foreign key ``fk`` is still empty at the
    ``target`` rows their ``<fk>_ref`` (a gateway id) names: ``UPDATE … SET fk = (SELECT id
    FROM target WHERE same account AND gateway_id = ref) WHERE account = %s AND fk IS NULL
    AND ref IN ({})``, with ``{}`` where the referenced ids' placeholders go. For models with
    ``account`` and ``gateway_id`` fields (the mirror's)."""
    quote = connections[alias].ops.quote_name

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        return quote(str(field.column))

    table, target_table = quote(referrer._meta.db_table), quote(target._meta.db_table)
    key, ref, account = (
        column(referrer, fk),
        column(referrer, f"{fk}_ref"),
        column(referrer, "account"),
    )
    return (
        f"UPDATE {table} SET {key} = ("  # noqa: S608
        f"SELECT t.{column(target, 'id')} FROM {target_table} t "
        f"WHERE t.{column(target, 'account')} = {table}.{account} "
        f"AND t.{column(target, 'gateway_id')} = {table}.{ref}"
        f") WHERE {table}.{account} = %s AND {table}.{key} IS NULL AND {table}.{ref} IN ({{}})"
    )


# --- webhook intake ------------------------------------------------------------------------
@lru_cache(maxsize=8)
def intake_sql(
    alias: str, event: type[Model], account: type[Model], inserted: tuple[str, ...]
) -> tuple[str, str, str, str | None]:
    """Webhook intake's statements: the account read (its ``is_active`` and
    ``drain_requested``, under ``FOR KEY SHARE`` on PostgreSQL), the event insert (the
    ``inserted`` fields, in order), the flag update (``drain_requested`` from %s to %s) and,
    on PostgreSQL, the insert-if-queued (the insert's parameters, then the account id)."""
    connection = connections[alias]
    quote = connection.ops.quote_name

    def column(model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        return quote(str(field.column))

    account_table = quote(account._meta.db_table)
    events_table = quote(event._meta.db_table)
    pk, active, flag_column = (
        column(account, "id"),
        column(account, "is_active"),
        column(account, "drain_requested"),
    )
    columns = ", ".join(column(event, name) for name in inserted)
    postgres = connection.vendor == "postgresql"
    lock = " FOR KEY SHARE" if postgres else ""
    read = f"SELECT {active}, {flag_column} FROM {account_table} WHERE {pk} = %s{lock}"  # noqa: S608
    placeholders = ", ".join(["%s"] * len(inserted))
    insert = f"INSERT INTO {events_table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    flag = (
        f"UPDATE {account_table} SET {flag_column} = %s "  # noqa: S608
        f"WHERE {pk} = %s AND {flag_column} = %s"
    )
    # One statement, so one round trip in autocommit: stores the event only if the account
    # is active and already has a drain queued (the common case), under the same lock. Not
    # on SQLite, where a read that turns into a write outside BEGIN IMMEDIATE can fail at
    # once instead of waiting for the lock.
    insert_if_queued = (
        f"INSERT INTO {events_table} ({columns}) SELECT {placeholders} "  # noqa: S608
        f"FROM {account_table} WHERE {pk} = %s AND {active} AND {flag_column}{lock}"
        if postgres
        else None
    )
    return read, insert, flag, insert_if_queued


def insert_prepared(db: Any, sql: str, params: list[Any]) -> int:
    """Run a hot statement as a PostgreSQL server-side prepared statement; its row count.

    Django's PostgreSQL cursors bind parameters on the client, so the server parses and
    plans every delivery's INSERT afresh; this runs on the driver's own cursor with
    ``prepare=True`` instead (planned once per connection). A unique violation is raised as
    Django's ``IntegrityError``, as a Django cursor would.
    """
    from psycopg import errors as psycopg_errors  # only on PostgreSQL, an optional extra

    db.ensure_connection()
    try:
        with db.connection.cursor() as cursor:
            cursor.execute(sql, params, prepare=True)
            return int(cursor.rowcount)
    except psycopg_errors.UniqueViolation as exc:
        raise IntegrityError(str(exc)) from exc
