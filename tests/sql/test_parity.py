"""Every hand-written SQL statement gives what the ORM gives, on SQLite and PostgreSQL.

Each case writes or reads the same values once through the hand-written statement and once
through its ORM equivalent, and compares what the database holds (or which error each one
raised). Run with DATABASE_URL=postgres://… for PostgreSQL. The statements (all in
``core.sql`` but the panel's): the mirror's INSERT, UPDATE and relink UPDATE (used by
``billing.services``), webhook intake's INSERT (``gateways.webhooks``), the role lookup
(``accounts.selectors``) and the panel's pre-compiled querysets (``panel.prepared``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.accounts.selectors import role_of
from billingdesk.billing import services
from billingdesk.billing.models import Charge
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.webhooks import _store
from billingdesk.panel.prepared import prepared

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TOO_BIG = 2**63  # one past the largest BIGINT
NUL = "before\x00after"


def same(by_hand: Any, by_orm: Any, orm_result: type) -> bool:
    """Both succeeded, or both raised the same type of error."""
    hand_ok, orm_ok = by_hand is None, isinstance(by_orm, orm_result)
    return hand_ok == orm_ok and (hand_ok or by_hand is by_orm)


def outcome(action: Callable[[], Any]) -> Any:
    """What ``action`` returned, or the type of the error it raised (its writes undone)."""
    try:
        with transaction.atomic():
            return action()
    except Exception as exc:
        return type(exc)


def _charges(account: GatewayAccount, **override: Any) -> list[Charge]:
    values: dict[str, Any] = {
        "gateway_updated_at": T0,
        "gateway_created_at": T0,
        "raw": {"id": "x", "nested": {"ünïcode": "€", "n": 1}},
        "amount": 1999,
        "currency": "EUR",
        "status": "captured",
        "description": "Café crème",
        "customer_ref": "cus_1",
    }
    values.update(override)
    return [
        Charge(account=account, gateway_id=f"ch_{n}", **{**values, "amount": values["amount"] + n})
        if isinstance(values["amount"], int) and values["amount"] < TOO_BIG
        else Charge(account=account, gateway_id=f"ch_{n}", **values)
        for n in range(3)
    ]


def _stored(account: GatewayAccount) -> list[tuple[Any, ...]]:
    names = [
        f.attname
        for f in Charge._meta.concrete_fields
        if f.name not in {"id", "account", "synced_at"}
    ]
    return list(Charge.objects.filter(account=account).order_by("gateway_id").values_list(*names))


@pytest.fixture
def two_accounts(db: None) -> tuple[GatewayAccount, GatewayAccount]:
    return (
        GatewayAccount.objects.create(kind="sandbox", name="By hand"),
        GatewayAccount.objects.create(kind="sandbox", name="By the ORM"),
    )


# --- the mirror's INSERT --------------------------------------------------------------------
@pytest.mark.parametrize(
    "override",
    [{}, {"description": NUL}, {"amount": TOO_BIG}, {"amount": -TOO_BIG - 1}, {"raw": {"k": NUL}}],
    ids=["plain", "nul-in-text", "too-big", "too-small", "nul-in-json"],
)
def test_mirror_insert_matches_bulk_create(
    two_accounts: tuple[GatewayAccount, GatewayAccount], override: dict[str, Any]
) -> None:
    by_hand, by_orm = two_accounts
    raw = outcome(lambda: services._insert_rows(by_hand, Charge, _charges(by_hand, **override)))
    orm = outcome(lambda: Charge.objects.bulk_create(_charges(by_orm, **override)))
    assert same(raw, orm, list), (raw, orm)
    assert _stored(by_hand) == _stored(by_orm)


def test_mirror_insert_of_an_empty_batch_writes_nothing(
    two_accounts: tuple[GatewayAccount, GatewayAccount],
) -> None:
    by_hand, _ = two_accounts
    services._insert_rows(by_hand, Charge, [])
    assert Charge.objects.bulk_create([]) == []
    assert not Charge.objects.exists()
    assert services.mirror_upsert(account=by_hand, objects=[]) == services.UpsertResult()


# --- the mirror's UPDATE ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"amount_refunded": 500, "status": "partially_refunded"},
        {"description": NUL},
        {"amount_refunded": TOO_BIG},
        {"raw": {"k": NUL}},
    ],
    ids=["plain", "nul-in-text", "too-big", "nul-in-json"],
)
def test_mirror_update_matches_bulk_update(
    two_accounts: tuple[GatewayAccount, GatewayAccount], change: dict[str, Any]
) -> None:
    by_hand, by_orm = two_accounts
    Charge.objects.bulk_create(_charges(by_hand) + _charges(by_orm))
    rows = {a: list(Charge.objects.filter(account=a).order_by("pk")) for a in two_accounts}
    for account_rows in rows.values():
        for row in account_rows:
            for name, value in change.items():
                setattr(row, name, value)
    names = list(change)
    raw = outcome(lambda: services._update_rows(Charge, rows[by_hand], names))
    orm = outcome(lambda: Charge.objects.bulk_update(rows[by_orm], names))
    assert same(raw, orm, int), (raw, orm)
    assert _stored(by_hand) == _stored(by_orm)


def test_mirror_update_of_an_empty_batch_writes_nothing(db: None) -> None:
    services._update_rows(Charge, [], ["status"])
    assert Charge.objects.bulk_update([], ["status"]) == 0


# --- the mirror's relink UPDATE ------------------------------------------------------------
def _linked(account: GatewayAccount) -> list[tuple[str, str | None]]:
    rows = Charge.objects.filter(account=account).order_by("gateway_id")
    return [(c.gateway_id, c.customer.gateway_id if c.customer else None) for c in rows]


@pytest.mark.parametrize(
    "new_ids",
    [["cus_1"], ["cus_1", "cus_2"], ["cus_missing"], [NUL], ["cus_1", "cus_1"], []],
    ids=repr,
)
def test_mirror_relink_matches_the_orm(
    two_accounts: tuple[GatewayAccount, GatewayAccount], new_ids: list[str]
) -> None:
    """Charges that arrived before their customer point at it once it arrives: the
    hand-written UPDATE (``core.sql.relink_sql``) against the ORM's ``update`` with a
    subquery, for the customers named in ``new_ids``."""
    from django.db.models import OuterRef, Subquery

    from billingdesk.billing.models import Customer
    from billingdesk.billing.services.links import _relink_referrers
    from billingdesk.gateways.interface import ObjectKind

    for account in two_accounts:
        charges = _charges(account)
        charges[1].customer_ref = "cus_2"
        Charge.objects.bulk_create(charges)
        for gid in ("cus_1", "cus_2"):
            Customer.objects.create(account=account, gateway_id=gid, gateway_updated_at=T0, raw={})
    by_hand, by_orm = two_accounts
    raw = outcome(lambda: _relink_referrers(by_hand, ObjectKind.CUSTOMER, new_ids))

    def orm_relink() -> int:
        if not new_ids:
            return 0
        target = Customer.objects.filter(
            account=OuterRef("account"), gateway_id=OuterRef("customer_ref")
        )
        return Charge.objects.filter(
            account=by_orm, customer__isnull=True, customer_ref__in=new_ids
        ).update(customer=Subquery(target.values("pk")[:1]))

    orm = outcome(orm_relink)
    assert same(raw, orm, int), (raw, orm)
    assert _linked(by_hand) == _linked(by_orm)
    if new_ids == ["cus_1"]:
        assert _linked(by_hand) == [("ch_0", "cus_1"), ("ch_1", None), ("ch_2", "cus_1")]


# --- webhook intake's INSERT -----------------------------------------------------------------
def _events(account: GatewayAccount) -> list[tuple[Any, ...]]:
    names = ["headers", "body", "status", "event_id", "event_type", "attempts", "error"]
    rows = WebhookEvent.objects.filter(account=account).order_by("pk").values_list(*names)
    return [(*row[:1], bytes(row[1]), *row[2:]) for row in rows]


@pytest.mark.parametrize(
    ("headers", "body", "event_id"),
    [
        ({"content-type": "application/json"}, b'{"id": "evt_1"}', "evt_1"),
        ({"x": "y"}, b"", "evt_empty_body"),
        ({"x": "y"}, b"\x00\xff binary \x00", "evt_binary"),
        ({"x": NUL}, b"{}", "evt_nul_header"),
        ({"x": "y"}, b"{}", NUL),
    ],
    ids=["plain", "empty-body", "nul-in-body", "nul-in-json", "nul-in-text"],
)
def test_intake_insert_matches_the_orm(
    two_accounts: tuple[GatewayAccount, GatewayAccount],
    headers: dict[str, str],
    body: bytes,
    event_id: str,
) -> None:
    by_hand, by_orm = two_accounts
    status = WebhookEvent.Status.REJECTED  # no drain to queue: only the INSERT is compared
    raw = outcome(lambda: _store(by_hand, headers, body, status, event_id=event_id, error="e"))
    orm = outcome(
        lambda: WebhookEvent.objects.create(
            account=by_orm,
            headers=headers,
            body=body,
            status=status,
            event_id=event_id,
            event_type="",
            attempts=0,
            error="e",
        )
    )
    assert same(raw, orm, WebhookEvent), (raw, orm)
    assert _events(by_hand) == _events(by_orm)


# --- the role lookup -----------------------------------------------------------------------
def _orm_role(user: User) -> Role:
    profile = AgentProfile.objects.filter(user_id=user.pk).first()
    return Role(profile.role) if profile else Role.READ_ONLY


@pytest.mark.parametrize("pk", ["agent", "no-profile", TOO_BIG], ids=str)
def test_role_lookup_matches_the_orm(db: None, pk: Any) -> None:
    user = User.objects.create_user("jane")
    if pk == "agent":
        AgentProfile.objects.create(user=user, role=Role.FINANCE)
    elif pk != "no-profile":
        user = User(pk=pk, username="ghost", is_active=True)
    assert outcome(lambda: role_of(user)) == outcome(lambda: _orm_role(user))


# --- the panel's pre-compiled querysets --------------------------------------------------
def _charge_query(ids: list[Any]) -> Any:
    return Charge.objects.filter(gateway_id__in=ids).order_by("gateway_id")


def _values(rows: Any) -> Any:
    if not isinstance(rows, list):
        return rows
    return [(r.gateway_id, r.amount, r.gateway_updated_at, r.raw, r.deleted) for r in rows]


@pytest.mark.parametrize("ids", [["ch_0", "ch_2"], ["ch_1"], [], [NUL], ["ch_0", "ch_0"]], ids=repr)
def test_prepared_queries_match_the_orm(
    two_accounts: tuple[GatewayAccount, GatewayAccount], ids: list[str]
) -> None:
    Charge.objects.bulk_create(_charges(two_accounts[0]))
    name = f"parity-{connection.vendor}"
    by_hand = outcome(lambda: _values(prepared(name, ids, _charge_query)))
    orm = outcome(lambda: _values(list(_charge_query(ids))))
    assert by_hand == orm


def test_a_page_of_prepared_queries_with_empty_ones_matches_the_orm(
    two_accounts: tuple[GatewayAccount, GatewayAccount],
) -> None:
    """Empty id lists among a page's queries (one request on PostgreSQL): each empty one
    gives no rows without being sent, the others their rows, in order; an empty list that
    does not empty the whole query (``| Q(…)``) is still sent."""
    from django.db.models import F, Q

    from billingdesk.panel.prepared import Query, run_all

    Charge.objects.bulk_create(_charges(two_accounts[0]))

    def either(values: list[Any]) -> Any:
        unrefunded = Q(amount__gt=F("amount_refunded"))
        return Charge.objects.filter(Q(gateway_id__in=values) | unrefunded).order_by("pk")

    queries = [
        Query(f"page-a-{connection.vendor}", [], _charge_query),
        Query(f"page-b-{connection.vendor}", ["ch_1", "ch_2"], _charge_query),
        Query(f"page-c-{connection.vendor}", [], either),
        Query(f"page-d-{connection.vendor}", [], _charge_query),
    ]
    by_hand = [_values(rows) for rows in run_all(*queries)]
    orm = [_values(list(q.build(list(q.ids)))) for q in queries]
    assert by_hand == orm
    assert [len(rows) for rows in by_hand] == [0, 2, 3, 0]
    with CaptureQueriesContext(connection) as sent:
        assert run_all(queries[0], queries[3]) == [[], []]
    assert len(sent) == 0


@pytest.mark.parametrize("ids", [[TOO_BIG], [1, TOO_BIG]], ids=repr)
def test_prepared_queries_match_the_orm_for_out_of_range_ids(
    two_accounts: tuple[GatewayAccount, GatewayAccount], ids: list[int]
) -> None:
    Charge.objects.bulk_create(_charges(two_accounts[0]))

    def build(values: list[Any]) -> Any:
        return Charge.objects.filter(pk__in=values).order_by("pk")

    by_hand = outcome(lambda: _values(prepared(f"parity-pk-{len(ids)}", ids, build)))
    orm = outcome(lambda: _values(list(build(ids))))
    assert by_hand == orm
