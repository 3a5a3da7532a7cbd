"""Writes to the billing mirror and to persons.

``mirror_upsert`` is the only way gateway objects enter the database, whether they come from
a backfill page or a webhook. It works a batch at a time (a few queries per page, not per
object), never lets an older version overwrite a newer one, and re-links references that
arrived before the object they point to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache, partial
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models import F
from django.utils import timezone

from billingdesk.billing.identity import normalize_email, normalize_phone
from billingdesk.billing.models import (
    MATCH_CONFIDENCE,
    Charge,
    Coupon,
    Customer,
    Discount,
    Dispute,
    Invoice,
    MatchMethod,
    Mirrored,
    PaymentMethod,
    Person,
    PersonEmail,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.billing.name_tokens import customer_tokens_refresh
from billingdesk.billing.signals import mirror_changed
from billingdesk.core.errors import InvalidRequest
from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    GatewayObject,
    GwCharge,
    InvoiceStatus,
    ObjectKind,
    RefundStatus,
)
from billingdesk.gateways.models import GatewayAccount

_BASE_FIELDS = {"id", "updated", "created", "raw", "deleted"}


@dataclass(frozen=True)
class _Spec:
    model: type[Mirrored]
    # dataclass attribute holding a gateway id -> (foreign key name, referenced kind)
    refs: dict[str, tuple[str, ObjectKind]]
    # dataclass attribute -> model column, where the names differ (plain references kept
    # without a foreign key)
    renamed: dict[str, str] = field(default_factory=dict)


_SPECS: dict[ObjectKind, _Spec] = {
    ObjectKind.CUSTOMER: _Spec(Customer, {}),
    ObjectKind.PAYMENT_METHOD: _Spec(
        PaymentMethod, {"customer_id": ("customer", ObjectKind.CUSTOMER)}
    ),
    ObjectKind.CHARGE: _Spec(
        Charge,
        {
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "payment_method_id": ("payment_method", ObjectKind.PAYMENT_METHOD),
            "invoice_id": ("invoice", ObjectKind.INVOICE),
        },
    ),
    ObjectKind.REFUND: _Spec(Refund, {"charge_id": ("charge", ObjectKind.CHARGE)}),
    ObjectKind.SUBSCRIPTION: _Spec(
        Subscription, {"customer_id": ("customer", ObjectKind.CUSTOMER)}
    ),
    ObjectKind.INVOICE: _Spec(
        Invoice,
        {
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "subscription_id": ("subscription", ObjectKind.SUBSCRIPTION),
        },
        {"charge_id": "charge_ref"},
    ),
    ObjectKind.COUPON: _Spec(Coupon, {}),
    ObjectKind.DISCOUNT: _Spec(
        Discount,
        {
            "coupon_id": ("coupon", ObjectKind.COUPON),
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "subscription_id": ("subscription", ObjectKind.SUBSCRIPTION),
        },
    ),
    ObjectKind.TAX_ID: _Spec(TaxId, {"customer_id": ("customer", ObjectKind.CUSTOMER)}),
    ObjectKind.DISPUTE: _Spec(Dispute, {"charge_id": ("charge", ObjectKind.CHARGE)}),
}

# For each kind, the (referring kind, foreign key name) pairs pointing at it.
_REFERRERS: dict[ObjectKind, list[tuple[ObjectKind, str]]] = defaultdict(list)
for _kind, _spec in _SPECS.items():
    for _fk, _target in _spec.refs.values():
        _REFERRERS[_target].append((_kind, _fk))


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        return self

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale


def _columns(obj: GatewayObject, spec: _Spec) -> dict[str, Any]:
    """Model column values for one gateway object (without foreign keys)."""
    values: dict[str, Any] = {
        "gateway_created_at": obj.created,
        "gateway_updated_at": obj.updated,
        "raw": dict(obj.raw),
        "deleted": obj.deleted,
    }
    for f in fields(obj):
        if f.name in _BASE_FIELDS:
            continue
        value = getattr(obj, f.name)
        if f.name in spec.refs:
            values[f"{spec.refs[f.name][0]}_ref"] = value or ""
        elif f.name in spec.renamed:
            values[spec.renamed[f.name]] = value or ""
        else:
            values[f.name] = "" if value is None and _is_text(spec.model, f.name) else value
    if spec.model is Customer:
        values["email_normalized"] = normalize_email(values.get("email"))
        values["phone_normalized"] = normalize_phone(
            values.get("phone"), region=values.get("country") or None
        )
    return values


def _is_text(model: type[Mirrored], name: str) -> bool:
    return model._meta.get_field(name).get_internal_type() in {"CharField", "TextField"}


def mirror_upsert(*, account: GatewayAccount, objects: Iterable[GatewayObject]) -> UpsertResult:
    """Insert or update gateway objects of any kinds in the mirror, in one transaction."""
    by_kind: dict[ObjectKind, dict[str, GatewayObject]] = defaultdict(dict)
    for obj in objects:
        # Within one batch keep only the newest version of each object (of the same
        # version, the furthest along, as against the mirror).
        current = by_kind[obj.kind].get(obj.id)
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
    result = UpsertResult()
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


# --- ties -----------------------------------------------------------------------------------
# Two versions of an object stamped with the same time (Stripe's are whole seconds, and it
# promises no order between the events of one second) are ordered by how far along each is,
# for the kinds whose state only moves forward: ``invoice.finalized`` then ``invoice.paid``
# in either order leave the invoice paid, ``charge.captured`` never undoes
# ``charge.refunded``. A deleted object stays deleted. Other kinds keep arrival order.
_PROGRESS: dict[ObjectKind, tuple[str, dict[str, int]]] = {
    ObjectKind.INVOICE: (
        "status",
        {
            InvoiceStatus.DRAFT: 0,
            InvoiceStatus.OPEN: 1,
            InvoiceStatus.UNCOLLECTIBLE: 2,
            InvoiceStatus.PAID: 3,
            InvoiceStatus.VOID: 3,
        },
    ),
    ObjectKind.CHARGE: (
        "status",
        {
            ChargeStatus.PENDING: 0,
            ChargeStatus.AUTHORIZED: 1,
            ChargeStatus.FAILED: 2,
            ChargeStatus.CAPTURED: 2,
            ChargeStatus.VOIDED: 3,
            ChargeStatus.PARTIALLY_REFUNDED: 3,
            ChargeStatus.REFUNDED: 4,
            ChargeStatus.DISPUTED: 5,
        },
    ),
    ObjectKind.REFUND: (
        "status",
        {
            RefundStatus.PENDING: 0,
            RefundStatus.SUCCEEDED: 1,
            RefundStatus.FAILED: 1,
            RefundStatus.CANCELED: 1,
        },
    ),
    ObjectKind.DISPUTE: (
        "status",
        {
            DisputeStatus.WARNING: 0,
            DisputeStatus.NEEDS_RESPONSE: 0,
            DisputeStatus.UNDER_REVIEW: 1,
            DisputeStatus.WON: 2,
            DisputeStatus.LOST: 2,
        },
    ),
}
# Amounts that only grow, as a second key (a refund more, a payment more).
_PROGRESS_AMOUNTS: dict[ObjectKind, tuple[str, ...]] = {
    ObjectKind.INVOICE: ("amount_paid",),
    ObjectKind.CHARGE: ("amount_refunded", "amount_captured"),
}


def _progress(kind: ObjectKind, get: Callable[[str], Any]) -> tuple[int, ...]:
    """How far along a version is, from ``get(attribute)``: compared only between two
    versions with the same timestamp."""
    key = [int(bool(get("deleted")))]
    if kind in _PROGRESS:
        name, ranks = _PROGRESS[kind]
        key.append(ranks.get(str(get(name)), 0))
    key.extend(int(get(name) or 0) for name in _PROGRESS_AMOUNTS.get(kind, ()))
    return tuple(key)


# --- state one object holds about another -----------------------------------------------------

# Disputes that hold the charge's money: nothing may be refunded while one is open or lost.
_DISPUTE_HOLDS = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW, DisputeStatus.LOST)
_SETTLED = (ChargeStatus.CAPTURED, ChargeStatus.PARTIALLY_REFUNDED, ChargeStatus.REFUNDED)


def _charges_completed(
    account: GatewayAccount, objects: Sequence[GatewayObject]
) -> Sequence[GatewayObject]:
    """Fill in, from what the mirror already holds, what a charge's own payload may lack:
    disputed while a dispute holds its money, the card (brand, last 4) from its payment
    method, and its invoice when the invoice names the charge. One query each, only when
    some charge of the batch needs it; the same answer every time, so a re-sync of an
    unchanged charge stays unchanged."""
    charges = [o for o in objects if isinstance(o, GwCharge)]
    if not charges:
        return objects
    disputed = set(
        Dispute.objects.filter(
            account=account,
            charge_ref__in=[c.id for c in charges if c.status in _SETTLED],
            status__in=_DISPUTE_HOLDS,
            deleted=False,
        ).values_list("charge_ref", flat=True)
    )
    cardless = {c.payment_method_id for c in charges if c.payment_method_id and not c.card_last4}
    cards: dict[str, tuple[str, str]] = {}
    if cardless:
        cards = {
            gid: (brand, last4)
            for gid, brand, last4 in PaymentMethod.objects.filter(
                account=account, gateway_id__in=cardless
            )
            .exclude(last4="")
            .values_list("gateway_id", "brand", "last4")
        }
    unlinked = {c.id for c in charges if not c.invoice_id} | {
        c.alt_id for c in charges if not c.invoice_id and c.alt_id
    }
    invoices: dict[str, str] = {}
    if unlinked:
        invoices = dict(
            Invoice.objects.filter(account=account, charge_ref__in=unlinked).values_list(
                "charge_ref", "gateway_id"
            )
        )
    if not (disputed or cards or invoices):
        return objects
    completed: list[GatewayObject] = []
    for obj in objects:
        if isinstance(obj, GwCharge):
            changes: dict[str, Any] = {}
            if obj.id in disputed:
                changes["status"] = ChargeStatus.DISPUTED
            if obj.payment_method_id in cards and not obj.card_last4:
                changes["card_brand"], changes["card_last4"] = cards[obj.payment_method_id]
            if not obj.invoice_id:
                invoice = invoices.get(obj.id) or invoices.get(obj.alt_id)
                if invoice:
                    changes["invoice_id"] = invoice
            if changes:
                obj = replace(obj, **changes)
        completed.append(obj)
    return completed


def _charges_disputed(account: GatewayAccount, disputes: Sequence[Mirrored]) -> None:
    """A dispute that holds the money marks its charge disputed (the panel then offers no
    refund): a gateway's dispute event carries the dispute, not the charge."""
    refs = {
        row.charge_ref
        for row in disputes
        if isinstance(row, Dispute) and row.status in _DISPUTE_HOLDS and not row.deleted
    }
    if refs:
        Charge.objects.filter(account=account, gateway_id__in=refs, status__in=_SETTLED).update(
            status=ChargeStatus.DISPUTED
        )


def _payment_methods_settle(account: GatewayAccount, methods: Sequence[Mirrored]) -> None:
    """After new or changed payment methods: a customer has one default (the newest one
    marked so), and charges that saw no card take this method's brand and last 4."""
    connection = connections[router.db_for_write(PaymentMethod)]
    rows = [row for row in methods if isinstance(row, PaymentMethod) and not row.deleted]
    defaults = {row.customer_ref: row.gateway_id for row in rows if row.is_default}
    defaults.pop("", None)
    if defaults:
        # One statement for the batch: the other methods of these customers still marked.
        PaymentMethod.objects.filter(
            account=account, customer_ref__in=list(defaults), is_default=True
        ).exclude(gateway_id__in=list(defaults.values())).update(is_default=False)
    cards = [(row.brand, row.last4, row.gateway_id) for row in rows if row.last4]
    if cards:
        account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
        quote = connection.ops.quote_name
        table = quote(Charge._meta.db_table)
        # Identifiers come from the model's metadata and are quoted; values are parameters.
        sql = (
            f"UPDATE {table} SET {quote('card_brand')} = %s, {quote('card_last4')} = %s "  # noqa: S608
            f"WHERE {quote('account_id')} = %s AND {quote('payment_method_ref')} = %s "
            f"AND {quote('card_last4')} = ''"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(b, l4, account_id, ref) for b, l4, ref in cards])


def _invoices_link_charges(account: GatewayAccount, invoices: Sequence[Mirrored]) -> None:
    """Link the charge an invoice names (by the charge's id or its payment attempt's) to the
    invoice, when the charge does not name one itself."""
    links = [
        (row.gateway_id, row.pk, row.charge_ref)
        for row in invoices
        if isinstance(row, Invoice) and row.charge_ref
    ]
    if not links:
        return
    connection = connections[router.db_for_write(Charge)]
    account_id = GatewayAccount._meta.pk.get_db_prep_save(account.pk, connection)  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    table = quote(Charge._meta.db_table)
    # Identifiers come from the model's metadata and are quoted; values are parameters.
    sql = (
        f"UPDATE {table} SET {quote('invoice_ref')} = %s, {quote('invoice_id')} = %s "  # noqa: S608
        f"WHERE {quote('account_id')} = %s AND {quote('invoice_ref')} = '' "
        f"AND ({quote('gateway_id')} = %s OR {quote('alt_id')} = %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(gid, pk, account_id, ref, ref) for gid, pk, ref in links])


# A payment attempt that has no charge yet (e.g. a Stripe PaymentIntent awaiting a card or
# 3-D Secure) is a charge row keyed by its own id, with ``alt_id`` the same id. A charge
# whose ``alt_id`` names it is the payment it became: the attempt's row is then marked
# deleted, so it never shows as a second payment (and stays findable by its id).


def _attempts_charged(
    account: GatewayAccount, objects: Sequence[GatewayObject]
) -> Sequence[GatewayObject]:
    """The batch, with the attempts whose charge is in it or already mirrored deleted (an
    attempt's event may arrive after its charge's)."""
    attempts = {
        o.id for o in objects if isinstance(o, GwCharge) and o.alt_id == o.id and not o.deleted
    }
    if not attempts:
        return objects
    charged = {o.alt_id for o in objects if isinstance(o, GwCharge) and o.alt_id != o.id}
    charged &= attempts
    if attempts - charged:
        charged.update(
            Charge.objects.filter(account=account, alt_id__in=attempts - charged)
            .exclude(gateway_id=F("alt_id"))
            .values_list("alt_id", flat=True)
        )
    return [replace(o, deleted=True) if o.id in charged else o for o in objects]


def _attempts_supersede(account: GatewayAccount, charges: Sequence[Mirrored]) -> None:
    """Mark deleted the attempt rows these new or changed charges supersede: one UPDATE
    through the (account, gateway id) index, touching only attempt rows that exist."""
    attempt_ids = {
        row.alt_id
        for row in charges
        if isinstance(row, Charge) and row.alt_id and row.alt_id != row.gateway_id
    }
    if attempt_ids:
        Charge.objects.filter(
            account=account, gateway_id__in=attempt_ids, alt_id=F("gateway_id"), deleted=False
        ).update(deleted=True)


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


# --- persons ------------------------------------------------------------------------------


def customers_match(*, customers: Sequence[Customer]) -> None:
    """Attach each customer to the person it belongs to, creating persons as needed.

    Matching is by normalised email (any other customer's, then a person's secondary emails),
    then by phone; a customer an agent linked by hand (``match_locked``) is left alone. Works
    on a batch with a fixed number of queries.
    """
    todo = [c for c in customers if not c.match_locked]
    if not todo:
        return
    pks = [c.pk for c in todo]
    emails = {c.email_normalized for c in todo} - {""}
    phones = {c.phone_normalized for c in todo} - {""}
    by_email: dict[str, int] = {}
    by_secondary: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    if emails:
        for email, pid in (
            Customer.objects.filter(email_normalized__in=emails, person__isnull=False)
            .exclude(pk__in=pks)
            .order_by("person_id")
            .values_list("email_normalized", "person_id")
        ):
            by_email.setdefault(email, pid)
        for email, pid in (
            PersonEmail.objects.filter(email_normalized__in=emails)
            .order_by("person_id")
            .values_list("email_normalized", "person_id")
        ):
            by_secondary.setdefault(email, pid)
    if phones:
        for phone, pid in (
            Customer.objects.filter(phone_normalized__in=phones, person__isnull=False)
            .exclude(pk__in=pks)
            .order_by("person_id")
            .values_list("phone_normalized", "person_id")
        ):
            by_phone.setdefault(phone, pid)

    previous = {c.pk: c.person_id for c in todo}
    needs_person: list[Customer] = []
    for customer in todo:
        method, person_id = _best_match(customer, by_email, by_secondary, by_phone)
        if person_id is None:
            if customer.person_id is not None and customer.match_method != MatchMethod.NEW:
                # It matched someone before and no longer matches anyone: give it its own person.
                customer.person_id = None
            if customer.person_id is None:
                needs_person.append(customer)
            continue
        customer.person_id = person_id
        customer.match_method = method
        customer.match_confidence = MATCH_CONFIDENCE[method]
        # Later customers of the same batch match this one.
        if customer.email_normalized:
            by_email.setdefault(customer.email_normalized, person_id)
        if customer.phone_normalized:
            by_phone.setdefault(customer.phone_normalized, person_id)

    # Customers nobody matched get new persons, created in one statement. A new person is
    # known by a placeholder (-1, -2, ...) until then, so later customers of the batch can
    # match it by email or phone exactly as they would match an existing one.
    new_persons: list[Person] = []
    for customer in needs_person:
        method, person_id = _best_match(customer, by_email, by_secondary, by_phone)
        if person_id is None:
            new_persons.append(Person(name=customer.name, primary_email=customer.email))
            person_id, method = -len(new_persons), MatchMethod.NEW
        customer.person_id = person_id
        customer.match_method = method
        customer.match_confidence = MATCH_CONFIDENCE[method]
        if customer.email_normalized:
            by_email.setdefault(customer.email_normalized, person_id)
        if customer.phone_normalized:
            by_phone.setdefault(customer.phone_normalized, person_id)
    if new_persons:
        Person.objects.bulk_create(new_persons)
        for customer in needs_person:
            if customer.person_id is not None and customer.person_id < 0:
                customer.person_id = new_persons[-customer.person_id - 1].pk

    _update_rows(Customer, todo, ["person", "match_method", "match_confidence"])
    _delete_orphans({pid for pid in previous.values() if pid} - {c.person_id for c in todo})


def _best_match(
    customer: Customer,
    by_email: dict[str, int],
    by_secondary: dict[str, int],
    by_phone: dict[str, int],
) -> tuple[MatchMethod, int | None]:
    if customer.email_normalized in by_email:
        return MatchMethod.EMAIL, by_email[customer.email_normalized]
    if customer.email_normalized in by_secondary:
        return MatchMethod.SECONDARY_EMAIL, by_secondary[customer.email_normalized]
    if customer.phone_normalized in by_phone:
        return MatchMethod.PHONE, by_phone[customer.phone_normalized]
    return MatchMethod.NEW, None


def _delete_orphans(person_ids: set[int]) -> None:
    """Remove persons left with no customer and no email of their own."""
    if person_ids:
        Person.objects.filter(
            pk__in=person_ids, customers__isnull=True, emails__isnull=True
        ).delete()


@transaction.atomic
def person_link_customer(*, customer: Customer, person: Person) -> Customer:
    """An agent says this record belongs to this person; automatic matching will not undo it."""
    old = customer.person_id
    customer.person = person
    customer.match_method = MatchMethod.MANUAL
    customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.MANUAL]
    customer.match_locked = True
    customer.save(update_fields=["person", "match_method", "match_confidence", "match_locked"])
    if old and old != person.pk:
        _delete_orphans({old})
    return customer


@transaction.atomic
def person_unlink_customer(*, customer: Customer) -> Person:
    """An agent says this record is not that person: it gets a person of its own, for good."""
    old = customer.person_id
    person = Person.objects.create(name=customer.name, primary_email=customer.email)
    customer.person = person
    customer.match_method = MatchMethod.MANUAL
    customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.MANUAL]
    customer.match_locked = True
    customer.save(update_fields=["person", "match_method", "match_confidence", "match_locked"])
    if old:
        _delete_orphans({old})
    return person


@transaction.atomic
def person_add_email(*, person: Person, email: str) -> PersonEmail:
    """Record a secondary address; unlocked customers with it join this person."""
    normalized = normalize_email(email)
    if not normalized:
        raise InvalidRequest(f"{email!r} is not an email address")
    row, _ = PersonEmail.objects.get_or_create(
        person=person, email_normalized=normalized, defaults={"email": email.strip()}
    )
    strays = list(
        Customer.objects.filter(email_normalized=normalized, match_locked=False).exclude(
            person=person
        )
    )
    if strays:
        old = {c.person_id for c in strays if c.person_id}
        for customer in strays:
            customer.person = person
            customer.match_method = MatchMethod.SECONDARY_EMAIL
            customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.SECONDARY_EMAIL]
        _update_rows(Customer, strays, ["person", "match_method", "match_confidence"])
        _delete_orphans(old)
    return row
