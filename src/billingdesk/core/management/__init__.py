"""Helpers shared by billingdesk's own management commands."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import Error as DatabaseError


def require_migrated(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Refuse to go on, in plain words, when the database is unreachable or not migrated.

    A process serving requests or running jobs against an old schema fails later in obscure
    ways; stopping at start with the command to run is kinder.
    """
    connection = connections[using]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"Cannot reach the database ({exc}). Check DATABASE_URL.") from exc
    if plan:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:5])
        more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
        raise CommandError(
            f"The database has {len(plan)} unapplied migration(s) ({names}{more}). "
            "Run `billingdesk migrate` first."
        )
