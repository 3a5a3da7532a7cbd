"""Shared plumbing of the sandbox engine: the unit of work and argument checks."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from billingdesk.core.errors import CardDeclined, InvalidRequest, NotAllowed
from billingdesk.core.money import normalise_currency
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine.ledger import Ledger
from billingdesk.gateways.sandbox.models import SandboxObject

INTERVALS = ("day", "week", "month", "year")
# Sandbox limit per charge, as a real gateway has one (Stripe: 99,999,999 minor units).
MAX_AMOUNT = 99_999_999


class EngineBase:
    """A sandbox engine bound to one account.

    ``bulk=True`` buffers everything in memory until ``flush()`` (for seeding); webhooks are
    then off unless asked for. Every public operation is atomic on its own, and may also run
    inside a caller's transaction. Bulk mode has no rollback: an operation refused half-way
    may leave in the buffer what it changed first, so bulk callers pass only valid input.
    """

    def __init__(
        self, account: GatewayAccount, *, bulk: bool = False, webhooks: bool | None = None
    ) -> None:
        if account.kind != "sandbox":
            raise NotAllowed(f"{account} is not a sandbox account")
        self.account = account
        self.ledger = Ledger(
            account, bulk=bulk, webhooks=(not bulk) if webhooks is None else webhooks
        )
        self._depth = 0

    @contextmanager
    def _op(self) -> Iterator[Ledger]:
        """One operation; nested calls join the outer one.

        A decline is the one refusal that still changes state (the failed charge is kept,
        as a gateway keeps it): the transaction commits, then ``CardDeclined`` is raised.
        """
        if self._depth == 0:
            self.ledger.begin()
        self._depth += 1
        try:
            if self.ledger.bulk:
                yield self.ledger
                return
            declined: CardDeclined | None = None
            with transaction.atomic():
                try:
                    yield self.ledger
                except CardDeclined as exc:
                    declined = exc
            if declined is not None:
                raise declined
        finally:
            self._depth -= 1

    def operation(self) -> AbstractContextManager[Ledger]:
        """Group several operations into one: one transaction, one list of ``changed``."""
        return self._op()

    def retrieve(self, *, object_id: str, kind: str) -> SandboxObject:
        """The object as the gateway holds it now; ``NotFound`` if it has no such object."""
        with self._op() as ledger:
            return ledger.get(object_id, kind)

    @property
    def changed(self) -> list[SandboxObject]:
        """Objects the last operation created or changed, in the order it touched them."""
        return list(self.ledger.changed.values())

    def flush(self) -> int:
        return self.ledger.flush()


def check_amount(amount: Any, *, allow_zero: bool = False) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest("An amount is a whole number of minor units (cents).")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidRequest("The amount must be greater than zero.")
    if amount > MAX_AMOUNT:
        raise InvalidRequest(f"The amount must be at most {MAX_AMOUNT} minor units.")
    return amount


def check_currency(currency: str) -> str:
    """Lower-case ISO 4217 code, as the sandbox's JSON (like Stripe's) writes it."""
    try:
        return normalise_currency(currency).lower()
    except ValueError:
        raise InvalidRequest(
            f"{currency!r} is not a three-letter ISO 4217 currency code."
        ) from None


def check_country(country: str) -> str:
    value = (country or "").strip().upper()
    if value and (len(value) != 2 or not value.isalpha() or not value.isascii()):
        raise InvalidRequest(f"{country!r} is not a two-letter country code.")
    return value


def clean_text(value: str | None, *, limit: int = 500) -> str:
    return (value or "").strip()[:limit]


def add_interval(moment: datetime, interval: str, count: int = 1) -> datetime:
    """``moment`` plus ``count`` intervals; month ends clamp (31 Jan + 1 month = 28/29 Feb)."""
    if interval == "day":
        return moment + timedelta(days=count)
    if interval == "week":
        return moment + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
