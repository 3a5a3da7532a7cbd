"""The sandbox's price catalogue: the plans a subscription can be created on by id."""

from __future__ import annotations

from dataclasses import dataclass

from billingdesk.core.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    product: str
    interval: str
    prices: dict[str, int]  # upper-case currency -> minor units per interval
    interval_count: int = 1

    def price(self, currency: str) -> int:
        try:
            return self.prices[currency.upper()]
        except KeyError:
            raise InvalidRequest(f"Plan {self.id!r} has no price in {currency.upper()}.") from None


PLANS: dict[str, Plan] = {
    plan.id: plan
    for plan in (
        Plan("starter-monthly", "Starter", "month", {"USD": 1900, "EUR": 1700}),
        Plan("pro-monthly", "Pro", "month", {"USD": 4900, "EUR": 4500}),
        Plan("pro-yearly", "Pro", "year", {"USD": 49000, "EUR": 45000}),
        Plan("team-monthly", "Team", "month", {"USD": 19900, "EUR": 17900}),
        Plan("coffee-club-monthly", "Coffee club", "month", {"EUR": 2490, "USD": 2790}),
        Plan("coffee-club-quarterly", "Coffee club", "month", {"EUR": 6990, "USD": 7790}, 3),
    )
}


def plan_get(plan_id: str) -> Plan:
    plan = PLANS.get(plan_id)
    if plan is None:
        raise InvalidRequest(f"Unknown plan {plan_id!r}; the sandbox offers {', '.join(PLANS)}.")
    return plan
