"""The bulk writes of mirror rows: one prepared INSERT or UPDATE for a batch, built from the
models' metadata instead of compiled by the ORM for every row (the statements are in
``core.sql``, with their parity tests in ``tests/sql/``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router

from billingdesk.billing.models import Mirrored
from billingdesk.core import sql
from billingdesk.gateways.models import GatewayAccount


def _insert_rows(account: GatewayAccount, model: type[Mirrored], rows: list[Mirrored]) -> None:
    """Insert new mirror rows with one prepared statement, then read back their ids.

    ``bulk_create`` compiles every value of every row through the ORM's expression machinery
    (a backfill page is ~2,500 values), which cost several times what the database takes to
    store them. The rows here are plain values the mirror built itself, so each field's own
    ``get_db_prep_save`` is all they need; the ids come back in one indexed query on the
    (account, gateway id) unique constraint.
    """
    sql.rows_insert(model, rows)
    pks = dict(
        model._default_manager.filter(
            account=account, gateway_id__in=[row.gateway_id for row in rows]
        ).values_list("gateway_id", "pk")
    )
    alias = connections[router.db_for_write(model)].alias
    for row in rows:
        row.pk = pks[row.gateway_id]
        row._state.adding = False
        row._state.db = alias


def _update_rows(model: type[models.Model], rows: Sequence[models.Model], names: list[str]) -> None:
    """Write these fields of existing rows with one prepared ``UPDATE … WHERE pk`` per row.

    ``bulk_update`` builds one ``CASE WHEN pk = … THEN …`` expression per row and field
    through the ORM (a backfill page of customers was ~30 % of the backfill's time); the
    rows here hold plain values already, adapted as ``_insert_rows`` adapts them.
    """
    sql.rows_update(model, rows, names)
