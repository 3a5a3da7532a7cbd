"""Who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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


def refund_limit(*, role: Role, currency: str) -> int | None:
    """The largest refund the role may make alone in this currency; None = no limit."""
    limit = RefundLimit.objects.filter(role=role, currency=currency.upper()).first()
    return limit.max_amount if limit else None
