"""Demo data: two sandbox accounts with eighteen months of believable history, backfilled.

"EU store" sells coffee gear in euros to European customers (one-off orders, a coffee-club
subscription, B2B buyers with VAT ids and invoices); "US SaaS" sells software subscriptions in
dollars. Some people are customers of both: with the same email written differently (case,
``+tag``) so that matching must normalise it, or with another email but the same phone
written in another format, so that they match by phone.

Everything goes through ``SandboxEngine`` in bulk mode, so the seeded objects and events are
exactly what live operations produce, then each account is backfilled into the mirror the way
a real gateway account would be. ``random.Random(seed)`` drives every choice: the same seed
gives the same people, amounts and dates (object ids are random, as a gateway's are).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.gateways.sandbox.seed.people import humans_generate
from billingdesk.gateways.sandbox.seed.saas import saas_seed
from billingdesk.gateways.sandbox.seed.store import store_seed

__all__ = ["demo_seed"]


def demo_seed(
    *,
    persons: int = 400,
    seed: int = 42,
    stdout: TextIO | None = None,
    backfill: Callable[..., SyncRun] | None = None,
) -> list[GatewayAccount]:
    """Create (once) the two demo sandbox accounts and, with ``backfill`` (the ingest
    layer's ``account_backfill``, passed in by the ``demo`` command: a connector does not
    import the layer above the mirror), backfill them once; returns them."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    humans = humans_generate(rng, persons)
    plans = [
        ("EU store", "EUR", store_seed, [h for h in humans if h.presence != "us"]),
        ("US SaaS", "USD", saas_seed, [h for h in humans if h.presence != "eu"]),
    ]
    accounts: list[GatewayAccount] = []
    for name, currency, seeder, people in plans:
        account, _ = GatewayAccount.objects.get_or_create(
            name=name, defaults={"kind": "sandbox", "default_currency": currency}
        )
        accounts.append(account)
        # A separate stream per account: its data does not depend on whether the other
        # account was seeded in this run.
        account_rng = random.Random(f"{seed}:{name}")  # noqa: S311
        if SandboxObject.objects.filter(account=account).exists():
            _say(stdout, f"{name}: sandbox already holds data, not seeded again")
        else:
            step = time.perf_counter()
            with transaction.atomic():
                engine = SandboxEngine(account, bulk=True)
                seeder(engine, account_rng, people, now)
                written = engine.flush()
            elapsed = time.perf_counter() - step
            _say(stdout, f"{name}: {written} sandbox objects created in {elapsed:.1f} s")
        if (
            backfill is not None
            and not SyncRun.objects.filter(account=account, status=SyncRun.Status.DONE).exists()
        ):
            step = time.perf_counter()
            run = backfill(account=account)
            elapsed = time.perf_counter() - step
            total = sum(run.counts.values())
            _say(stdout, f"{name}: {total} objects backfilled into the mirror in {elapsed:.1f} s")
    _say(stdout, f"demo data ready in {time.perf_counter() - started:.1f} s")
    return accounts


def _say(stdout: TextIO | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")
