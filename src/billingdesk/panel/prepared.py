"""Querysets compiled to SQL once per shape, then re-run with new ids.

Django compiles a queryset to SQL every time it runs, and for the panel's small indexed
queries that compilation costs several times what the database takes to answer. The SQL of
``build(ids)`` only depends on how many ids there are, so the first run keeps it and later
runs go through ``Model.objects.raw`` with the new ids: the same SQL, the same model
instances (deferred fields stay deferred), without the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Model, QuerySet

RowT = TypeVar("RowT", bound=Model)

# (name, number of ids, database vendor) -> (model, SQL)
_SQL: dict[tuple[str, int, str], tuple[type[Model], str]] = {}


def prepared(
    name: str, ids: Sequence[Any], build: Callable[[list[Any]], QuerySet[RowT]]
) -> list[RowT]:
    """``list(build(ids))``, compiling ``build``'s SQL only once for each number of ids.

    ``build`` must use the ids as its only query parameters, each once, in order (a filter
    ``field__in=ids``, possibly inside a subquery); other values belong in the SQL itself.
    The ids must be as the database driver takes them (``field.get_db_prep_value``), since
    the raw query passes them on unchanged.
    """
    values = list(dict.fromkeys(ids))  # an IN list drops repeated values: so do we
    shape = (name, len(values), connection.vendor)
    cached = _SQL.get(shape)
    if cached is None:
        qs = build(values)
        sql, params = qs.query.sql_with_params()
        if list(params) != values:
            raise ValueError(f"{name}: the ids must be the query's only parameters")
        cached = _SQL[shape] = (qs.model, sql)
    model, sql = cached
    return cast(list[RowT], list(model._default_manager.raw(sql, values)))
