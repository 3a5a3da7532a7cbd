"""Who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection

from billingdesk.accounts.models import ROLE_RANK, AgentProfile, RefundLimit, Role
from billingdesk.core.sql import column_lookup_sql

# Roles already read in the current ``roles_cached()`` block, by user id.
_ROLES_SEEN: ContextVar[dict[object, Role] | None] = ContextVar("roles_seen", default=None)


@contextmanager
def roles_cached() -> Iterator[None]:
    """Read each agent's role at most once inside the block.

    A page that asks ``actions_available`` about each of its rows would otherwise read the
    same role once per row; outside such a block every call reads the database afresh.
    """
    token = _ROLES_SEEN.set({})
    try:
        yield
    finally:
        _ROLES_SEEN.reset(token)


def role_of(user: User | AnonymousUser) -> Role:
    """An agent's role; superusers are admins, users without a profile are read-only."""
    if not user.is_authenticated or not user.is_active:
        return Role.READ_ONLY
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    seen = _ROLES_SEEN.get()
    if seen is not None and user.pk in seen:
        return seen[user.pk]
    # Every page asks for the agent's role: compiling a queryset for it each time cost several
    # times what the database takes to answer this unique-key lookup.
    sql = column_lookup_sql(connection.alias, AgentProfile, "role", "user")
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        row = cursor.fetchone()
    role = Role(row[0]) if row else Role.READ_ONLY
    if seen is not None:
        seen[user.pk] = role
    return role


def role_at_least(user: User | AnonymousUser, role: Role) -> bool:
    return ROLE_RANK[role_of(user)] >= ROLE_RANK[role]


@dataclass(frozen=True)
class Limit:
    """What one role may move alone for one kind of action and currency (minor units).

    ``max_amount`` bounds one action and the total on one record; ``daily_max`` what one
    agent moves in 24 hours. None means unbounded.
    """

    max_amount: int | None
    daily_max: int | None

    @property
    def unlimited(self) -> bool:
        return self.max_amount is None and self.daily_max is None


UNLIMITED = Limit(None, None)
NOTHING = Limit(0, 0)


def money_limit(*, role: Role, kind: str, currency: str) -> Limit:
    """The role's limit for this kind of money-moving action in this currency.

    Fails closed: with no ``RefundLimit`` row, agents and finance may move nothing alone
    (every such action needs approval); admins, who configure the limits, are unbounded
    unless a row says otherwise. Read-only agents can do nothing at all.
    """
    if role is Role.READ_ONLY:
        return NOTHING
    row = (
        RefundLimit.objects.filter(role=role, kind=kind, currency=currency.upper())
        .only("max_amount", "daily_max")
        .first()
    )
    if row is not None:
        return Limit(row.max_amount, row.daily_max)
    return UNLIMITED if role is Role.ADMIN else NOTHING


def refund_limit(*, role: Role, currency: str) -> int | None:
    """The largest refund the role may make alone in this currency; None = no limit."""
    return money_limit(role=role, kind="refund", currency=currency).max_amount
