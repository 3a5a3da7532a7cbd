"""``mirror_upsert``: gateway objects of any kinds into the mirror, a batch at a time.

A kind's batch is read with one locking query, compared version by version (an older
version never overwrites a newer one; ties are ordered by ``ties``), written with the bulk
statements of ``rows``, then the state other rows derive from it is settled (``derived``),
references that arrived early are re-linked (``links``) and new customers matched to
persons (``persons``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.utils import timezone

from billingdesk.billing.models import Charge, Customer, Dispute, Invoice, Mirrored, PaymentMethod
from billingdesk.billing.name_tokens import customer_tokens_refresh
from billingdesk.billing.services.derived import (
    _attempts_charged,
    _attempts_supersede,
    _charges_completed,
    _charges_disputed,
    _invoices_link_charges,
    _payment_methods_settle,
)
from billingdesk.billing.services.links import _relink_referrers, _resolve_refs
from billingdesk.billing.services.persons import customers_match
from billingdesk.billing.services.rows import _insert_rows, _update_rows
from billingdesk.billing.services.specs import _SPECS, _columns
from billingdesk.billing.services.ties import _progress
from billingdesk.billing.signals import mirror_changed
from billingdesk.gateways.interface import GatewayObject, ObjectKind
from billingdesk.gateways.models import GatewayAccount


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    # Objects written over a different state of the same version and the same progress
    # (``ties``): which of the two is current only the gateway can say, so webhook
    # processing re-fetches them (``gateways.webhooks.processing``).
    ties: set[tuple[ObjectKind, str]] = field(default_factory=set)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.ties |= other.ties
        return self

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale


def mirror_upsert(*, account: GatewayAccount, objects: Iterable[GatewayObject]) -> UpsertResult:
    """Insert or update gateway objects of any kinds in the mirror, in one transaction."""
    by_kind: dict[ObjectKind, dict[str, GatewayObject]] = defaultdict(dict)
    batch_ties: set[tuple[ObjectKind, str]] = set()
    for obj in objects:
        # Within one batch keep only the newest version of each object (of the same
        # version, the furthest along, as against the mirror).
        current = by_kind[obj.kind].get(obj.id)
        if current is not None and current.updated == obj.updated:
            ahead = _progress(obj.kind, partial(getattr, current))
            behind = _progress(obj.kind, partial(getattr, obj))
            if ahead == behind and current != obj:
                batch_ties.add((obj.kind, obj.id))
        if (
            current is None
            or current.updated < obj.updated
            or (
                current.updated == obj.updated
                and _progress(obj.kind, partial(getattr, current))
                <= _progress(obj.kind, partial(getattr, obj))
            )
        ):
            by_kind[obj.kind][obj.id] = obj
    result = UpsertResult(ties=batch_ties)
    with transaction.atomic():
        for kind in _SPECS:  # referenced kinds are not required first; order is just stable
            if by_kind.get(kind):
                result += _upsert_kind(account, kind, list(by_kind[kind].values()))
    return result


def _upsert_kind(
    account: GatewayAccount, kind: ObjectKind, objects: Sequence[GatewayObject]
) -> UpsertResult:
    spec = _SPECS[kind]
    model = spec.model
    if model is Charge:
        objects = _charges_completed(account, _attempts_charged(account, objects))
    ids = [obj.id for obj in objects]
    existing = {
        row.gateway_id: row
        for row in model._default_manager.select_for_update().filter(
            account=account, gateway_id__in=ids
        )
    }
    resolved = _resolve_refs(account, spec, objects)
    now = timezone.now()
    result = UpsertResult()
    to_create: list[Mirrored] = []
    to_update: list[Mirrored] = []
    changed_fields: set[str] = set()
    identity_changed: list[Customer] = []
    for obj in objects:
        values = _columns(obj, spec)
        for attr, (fk, _target) in spec.refs.items():
            ref = getattr(obj, attr)
            values[f"{fk}_id"] = resolved[fk].get(ref) if ref else None
        row = existing.get(obj.id)
        if row is None:
            to_create.append(model(account=account, gateway_id=obj.id, synced_at=now, **values))
            continue
        if row.gateway_updated_at > obj.updated or (
            row.gateway_updated_at == obj.updated
            and _progress(kind, values.get) < _progress(kind, partial(getattr, row))
        ):
            result.stale += 1
            continue
        # The version alone is not a change: a listing stamps every object with the time it
        # was fetched, and a re-sync of unchanged data must write (and signal) nothing.
        diff = {
            name: value
            for name, value in values.items()
            if name != "gateway_updated_at" and getattr(row, name) != value
        }
        if not diff:
            result.unchanged += 1
            continue
        if row.gateway_updated_at == obj.updated and _progress(kind, values.get) == _progress(
            kind, partial(getattr, row)
        ):
            result.ties.add((kind, obj.id))
        diff["gateway_updated_at"] = obj.updated
        if isinstance(row, Customer) and ({"email_normalized", "phone_normalized"} & diff.keys()):
            identity_changed.append(row)
        for name, value in diff.items():
            setattr(row, name, value)
        row.synced_at = now
        changed_fields |= diff.keys()
        to_update.append(row)
    if to_create:
        _insert_rows(account, model, to_create)
        result.created = len(to_create)
        _relink_referrers(account, kind, [row.gateway_id for row in to_create])
    if to_update:
        _update_rows(model, to_update, [*sorted(changed_fields), "synced_at"])
        result.updated = len(to_update)
    changed = [*to_create, *to_update]
    if model is Charge:
        _attempts_supersede(account, changed)
    elif model is Dispute:
        _charges_disputed(account, changed)
    elif model is PaymentMethod:
        _payment_methods_settle(account, changed)
    elif model is Invoice:
        _invoices_link_charges(account, changed)
    if model is Customer:
        fresh = [row for row in to_create if isinstance(row, Customer)]
        customers_match(customers=[*fresh, *identity_changed])
        customer_tokens_refresh(
            [*fresh, *(to_update if {"name", "email"} & changed_fields else [])]
        )
    if to_create or to_update:
        mirror_changed.send(
            sender=model,
            account=account,
            kind=kind,
            created=[row.pk for row in to_create],
            updated=[row.pk for row in to_update],
        )
    return result
