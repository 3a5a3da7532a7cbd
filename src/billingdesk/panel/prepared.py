"""Querysets compiled to SQL once per shape, then re-run with new ids on a plain cursor.

Django compiles a queryset to SQL every time it runs, and for the panel's small indexed
queries that compilation costs several times what the database takes to answer; building model
instances through ``QuerySet`` / ``RawQuerySet`` (column mapping, converters, ``__init__`` per
row) costs as much again. The SQL of ``build(ids)`` only depends on how many ids there are, so
the first run keeps it with what to do with each column; later runs send the same SQL with the
new ids on the connection's cursor and turn each row tuple into a model instance directly.
The instances are ordinary model instances (deferred fields stay deferred and load on access),
so the action rules and the helpdesk notes can take them as they are. A page's queries can be
sent together (``run_all``): one round trip on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

RowT = TypeVar("RowT", bound=Model)

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    model: type[Model]
    # None when the query can match nothing (``field__in=[]``): the ORM then answers with no
    # rows without asking the database, and so do we.
    sql: str | None
    # The attribute each column sets: a field's attname, or an annotation's name.
    names: tuple[str, ...]
    # (column index, conversion) for the columns whose database value needs converting.
    converters: tuple[tuple[int, Convert], ...]
    # True when the model has init signal receivers: rows then go through ``from_db``.
    via_init: bool


# (name, number of ids, database alias) -> plan
_PLANS: dict[tuple[str, int, str], _Plan] = {}


@dataclass(frozen=True, slots=True)
class Query(Generic[RowT]):
    """``build(ids)``, to be run by ``run_all`` with the other queries of a page.

    ``build`` must use the ids as its only query parameters, each once, in order (a filter
    ``field__in=ids``, possibly inside a subquery); other values belong in the SQL itself. It
    may ``defer``/``only`` fields and ``annotate`` values, not ``select_related``. The ids
    must be as the database driver takes them (``field.get_db_prep_value``), since they are
    passed on unchanged.
    """

    name: str
    ids: Sequence[Any]
    build: Callable[[list[Any]], QuerySet[RowT]]


def prepared(
    name: str, ids: Sequence[Any], build: Callable[[list[Any]], QuerySet[RowT]]
) -> list[RowT]:
    """``list(build(ids))``, compiling ``build``'s SQL only once for each number of ids."""
    rows: list[RowT] = run_all(Query(name, ids, build))[0]
    return rows


def run_all(*queries: Query[Any]) -> list[list[Any]]:
    """The rows of each query, in order.

    On PostgreSQL the queries go to the server as one multi-statement request (one round trip
    instead of one per query; Django's default client-side binding cursor allows it) and the
    results are read one after the other; elsewhere they run one by one.
    """
    planned = []
    for query in queries:
        values = list(dict.fromkeys(query.ids))  # an IN list drops repeated values: so do we
        shape = (query.name, len(values), connection.alias)
        plan = _PLANS.get(shape)
        if plan is None:
            plan = _PLANS[shape] = _plan(query, values)
        planned.append((plan, values))
    results: list[list[Any]] = [[] for _ in planned]
    sent = [(index, plan, values) for index, (plan, values) in enumerate(planned) if plan.sql]
    if not sent:
        return results
    with connection.cursor() as cursor:
        if len(sent) > 1 and _one_request(cursor):
            cursor.execute(
                ";\n".join(cast(str, plan.sql) for _, plan, _ in sent),
                [value for _, _, values in sent for value in values],
            )
            for number, (index, plan, _) in enumerate(sent):
                if number:
                    cursor.nextset()
                results[index] = [_instance(plan, row) for row in cursor.fetchall()]
        else:
            for index, plan, values in sent:
                cursor.execute(cast(str, plan.sql), values)
                results[index] = [_instance(plan, row) for row in cursor.fetchall()]
    return results


def _one_request(cursor: Any) -> bool:
    """Whether this cursor can take several statements with parameters in one execute."""
    if connection.vendor != "postgresql":
        return False
    import psycopg  # only with PostgreSQL

    return isinstance(cursor.cursor, psycopg.ClientCursor)


def _instance(plan: _Plan, row: Sequence[Any]) -> Model:
    if plan.converters:
        row = list(row)
        for index, convert in plan.converters:
            if row[index] is not None:
                row[index] = convert(row[index])
    if plan.via_init:
        return plan.model.from_db(connection.alias, list(plan.names), row)
    # What ``Model.from_db`` ends with, without ``__init__``'s per-field work: the values are
    # already the fields' Python values, and no init signal receiver is there to miss them.
    obj = plan.model.__new__(plan.model)
    obj.__dict__.update(zip(plan.names, row, strict=True))
    state = obj._state = ModelState()
    state.adding = False
    state.db = connection.alias
    return obj


def _plan(query: Query[Any], values: list[Any]) -> _Plan:
    name, qs = query.name, query.build(values)
    compiler = qs.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        model = cast(type[Model], qs.model)
        return _Plan(model=model, sql=None, names=(), converters=(), via_init=False)
    if list(params) != values:
        raise ValueError(f"{name}: the ids must be the query's only parameters")
    klass_info = compiler.klass_info or {}
    if klass_info.get("related_klass_infos"):
        raise ValueError(f"{name}: select_related is not supported")
    names: list[str] = [""] * len(compiler.select)
    for index in klass_info.get("select_fields", ()):
        names[index] = compiler.select[index][0].target.attname
    for alias, index in compiler.annotation_col_map.items():
        names[index] = alias
    if "" in names:
        raise ValueError(f"{name}: a selected column has no attribute to go to")
    converters = []
    for index, (funcs, expression) in compiler.get_converters(
        [col for col, _, _ in compiler.select]
    ).items():
        converters.append((index, _converter(funcs, expression)))
    model = cast(type[Model], qs.model)
    return _Plan(
        model=model,
        sql=sql,
        names=tuple(names),
        converters=tuple(converters),
        via_init=pre_init.has_listeners(model) or post_init.has_listeners(model),
    )


def _converter(funcs: list[Callable[..., Any]], expression: Any) -> Convert:
    internal = expression.output_field.get_internal_type()
    if connection.vendor == "sqlite" and len(funcs) == 1:
        # SQLite hands back text and integers; Django's converters parse them with regular
        # expressions. These do the same for the two types every panel row has.
        if internal == "DateTimeField" and settings.USE_TZ and connection.timezone is UTC:
            return _sqlite_datetime
        if internal == "BooleanField":
            return bool
    db = connection

    def convert(value: Any) -> Any:
        for func in funcs:
            value = func(value, expression, db)
        return value

    return convert


def _sqlite_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
