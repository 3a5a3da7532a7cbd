"""The bulk writes of mirror rows: one prepared INSERT or UPDATE for a batch, built from the
models' metadata instead of compiled by the ORM for every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

from billingdesk.billing.models import Mirrored
from billingdesk.gateways.models import GatewayAccount


def _insert_rows(account: GatewayAccount, model: type[Mirrored], rows: list[Mirrored]) -> None:
    """Insert new mirror rows with one prepared statement, then read back their ids.

    ``bulk_create`` compiles every value of every row through the ORM's expression machinery
    (a backfill page is ~2,500 values), which cost several times what the database takes to
    store them. The rows here are plain values the mirror built itself, so each field's own
    ``get_db_prep_save`` is all they need; the ids come back in one indexed query on the
    (account, gateway id) unique constraint.
    """
    connection = connections[router.db_for_write(model)]
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Identifiers come from the model's metadata and are quoted; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(str(f.column)) for f in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, _db_values(connection, columns, rows, adding=True))
    pks = dict(
        model._default_manager.filter(
            account=account, gateway_id__in=[row.gateway_id for row in rows]
        ).values_list("gateway_id", "pk")
    )
    for row in rows:
        row.pk = pks[row.gateway_id]
        row._state.adding = False
        row._state.db = connection.alias


def _update_rows(model: type[models.Model], rows: Sequence[models.Model], names: list[str]) -> None:
    """Write these fields of existing rows with one prepared ``UPDATE … WHERE pk`` per row.

    ``bulk_update`` builds one ``CASE WHEN pk = … THEN …`` expression per row and field
    through the ORM (a backfill page of customers was ~30 % of the backfill's time); the
    rows here hold plain values already, adapted as ``_insert_rows`` adapts them.
    """
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    columns = [f for f in (opts.get_field(name) for name in names) if isinstance(f, models.Field)]
    quote = connection.ops.quote_name
    assert opts.pk is not None and len(columns) == len(names)
    # Identifiers come from the model's metadata and are quoted; values are parameters.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        quote(opts.db_table),
        ", ".join(f"{quote(str(f.column))} = %s" for f in columns),
        quote(str(opts.pk.column)),
    )
    params = _db_values(connection, columns, rows, adding=False)
    for values, row in zip(params, rows, strict=True):
        values.append(row.pk)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _db_values(
    connection: Any,
    columns: Sequence[models.Field[Any, Any]],
    rows: Sequence[models.Model],
    *,
    adding: bool,
) -> list[list[Any]]:
    """Each row's database values for these columns: plain values as they are, the rest
    through their field's ``get_db_prep_save``; ``auto_now`` fields stamped on insert."""
    plan = [
        (f, f.attname, _passthrough_type(f), adding and getattr(f, "auto_now", False))
        for f in columns
    ]
    params = []
    for row in rows:
        values = []
        for f, attname, exact, auto_now in plan:
            value = f.pre_save(row, True) if auto_now else getattr(row, attname)
            if exact is None or (value is not None and type(value) is not exact):
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
