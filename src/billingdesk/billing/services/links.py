"""References between mirrored objects: gateway ids resolved to row ids, and rows that
arrived before the object they point to re-linked when it arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import connections, models, router

from billingdesk.billing.models import Mirrored
from billingdesk.billing.services.specs import _REFERRERS, _SPECS, _Spec
from billingdesk.gateways.interface import GatewayObject, ObjectKind
from billingdesk.gateways.models import GatewayAccount


def _resolve_refs(
    account: GatewayAccount, spec: _Spec, objects: Sequence[GatewayObject]
) -> dict[str, dict[str, int]]:
    """For each foreign key, map the referenced gateway ids to row ids (one query each)."""
    resolved: dict[str, dict[str, int]] = {}
    for attr, (fk, target) in spec.refs.items():
        wanted = {getattr(obj, attr) for obj in objects} - {None, ""}
        resolved[fk] = (
            dict(
                _SPECS[target]
                .model._default_manager.filter(account=account, gateway_id__in=wanted)
                .values_list("gateway_id", "pk")
            )
            if wanted
            else {}
        )
    return resolved


def _relink_referrers(account: GatewayAccount, kind: ObjectKind, new_ids: list[str]) -> None:
    """Point rows that arrived earlier, referring to these new objects, at them.

    One ``UPDATE`` per referring kind, written once per (kind, key) rather than compiled by
    the ORM on every batch: during a backfill these run for every page and mostly find
    nothing to relink, so building them was their whole cost.
    """
    if not new_ids:
        return
    target = _SPECS[kind].model
    connection = connections[router.db_for_write(target)]
    account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
    for referrer_kind, fk in _REFERRERS[kind]:
        sql = _relink_sql(connection.vendor, _SPECS[referrer_kind].model, fk, target)
        with connection.cursor() as cursor:
            cursor.execute(sql.format(", ".join(["%s"] * len(new_ids))), [account_id, *new_ids])


@cache
def _relink_sql(vendor: str, referrer: type[Mirrored], fk: str, target: type[Mirrored]) -> str:
    """``_relink_referrers``' statement, with ``{}`` where the new ids' placeholders go."""
    quote = connections[router.db_for_write(referrer)].ops.quote_name

    def column(model: type[Mirrored], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        return quote(str(field.column))

    table, target_table = quote(referrer._meta.db_table), quote(target._meta.db_table)
    key, ref, account = (
        column(referrer, fk),
        column(referrer, f"{fk}_ref"),
        column(referrer, "account"),
    )
    # Identifiers come from the models' metadata and are quoted; values are parameters.
    return (
        f"UPDATE {table} SET {key} = ("  # noqa: S608
        f"SELECT t.{column(target, 'id')} FROM {target_table} t "
        f"WHERE t.{column(target, 'account')} = {table}.{account} "
        f"AND t.{column(target, 'gateway_id')} = {table}.{ref}"
        f") WHERE {table}.{account} = %s AND {table}.{key} IS NULL AND {table}.{ref} IN ({{}})"
    )
