"""Sensible starting limits, seeded by ``billingdesk demo`` (and by tests' shops).

Amounts are in major units here and converted with the currency's own exponent. Admins get
no rows: with none they act without limit (``accounts.selectors.money_limit``).
"""

from __future__ import annotations

from collections.abc import Iterable

from billingdesk.accounts.models import LimitKind, RefundLimit, Role
from billingdesk.core.money import currency_exponent

# role -> kind -> (per action and per record, per agent per 24 h), in major units.
SUGGESTED_LIMITS: dict[Role, dict[LimitKind, tuple[int, int | None]]] = {
    Role.AGENT: {
        LimitKind.REFUND: (50, 200),
        LimitKind.CAPTURE: (500, 2_000),
        LimitKind.AUTHORIZE: (200, 1_000),
        LimitKind.PAYMENT_REQUEST: (500, 2_000),
    },
    Role.FINANCE: {
        LimitKind.REFUND: (1_000, 10_000),
        LimitKind.CAPTURE: (10_000, 50_000),
        LimitKind.AUTHORIZE: (5_000, 20_000),
        LimitKind.PAYMENT_REQUEST: (10_000, 50_000),
    },
}


def _minor(amount: int, currency: str) -> int:
    return int(amount * 10 ** currency_exponent(currency))


def limits_seed(currencies: Iterable[str]) -> int:
    """Create the suggested limits for these currencies where none is set; returns how many."""
    created = 0
    for currency in sorted({c.upper() for c in currencies if c}):
        for role, kinds in SUGGESTED_LIMITS.items():
            for kind, (per_record, daily) in kinds.items():
                _, made = RefundLimit.objects.get_or_create(
                    role=role,
                    kind=kind,
                    currency=currency,
                    defaults={
                        "max_amount": _minor(per_record, currency),
                        "daily_max": _minor(daily, currency) if daily is not None else None,
                    },
                )
                created += made
    return created
