"""References between mirrored objects: gateway ids resolved to row ids, and rows that
arrived before the object they point to re-linked when it arrives.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router

from billingdesk.billing.services.specs import _REFERRERS, _SPECS, _Spec
from billingdesk.core import sql
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

    One ``UPDATE`` per referring kind (``core.sql.relink_sql``), written once per (kind, key)
    rather than compiled by the ORM on every batch: during a backfill these run for every
    page and mostly find nothing to relink, so building them was their whole cost.
    """
    if not new_ids:
        return
    target = _SPECS[kind].model
    connection = connections[router.db_for_write(target)]
    account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
    for referrer_kind, fk in _REFERRERS[kind]:
        statement = sql.relink_sql(connection.alias, _SPECS[referrer_kind].model, fk, target)
        with connection.cursor() as cursor:
            cursor.execute(
                statement.format(", ".join(["%s"] * len(new_ids))), [account_id, *new_ids]
            )
