"""Tax for documents: the rate table in force, the engine called with a payment's parties,
and its result as a document's line, tax and treatment fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from billingdesk.documents.models import TaxRate
from billingdesk.documents.tax import (
    LineIn,
    Party,
    Rate,
    RateTable,
    TaxResult,
    compute,
    default_rate_table,
    percent_text,
)


def rate_table() -> RateTable:
    """The rates in the database (seeded from data/rates.json, edited in the admin); the
    shipped table when the database has none (e.g. after a flush)."""
    rows = list(TaxRate.objects.all())
    if not rows:
        return default_rate_table()
    return RateTable(
        Rate(
            country=r.country,
            region=r.region,
            name=r.name,
            percent=r.percent,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in rows
    )


def _tax(
    *, seller: dict[str, Any], buyer: dict[str, Any], lines: list[LineIn], on: date
) -> TaxResult:
    return compute(
        seller=Party(seller["country"], seller.get("region", ""), registered=seller["registered"]),
        buyer=Party(buyer["country"], buyer.get("region", ""), is_business=buyer["is_business"]),
        lines=lines,
        on=on,
        prices_include_tax=True,  # a payment's amount is what the customer paid, tax included
        rates=rate_table(),
    )


def tax_fields(result: TaxResult) -> dict[str, Any]:
    """A document's line, tax and treatment fields from the tax engine's result."""
    return {
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_net": line.unit_net,
                "net": line.net,
                "tax": line.tax,
                "gross": line.gross,
                "percent": percent_text(line.percent),
            }
            for line in result.lines
        ],
        "tax_lines": [
            {
                "name": t.name,
                "percent": percent_text(t.percent),
                "taxable": t.taxable,
                "amount": t.amount,
                "category": t.category,
            }
            for t in result.tax_lines
        ],
        "treatment": result.treatment.value,
        "tax_category": result.category,
        "tax_country": result.tax_country,
        "prices_include_tax": result.prices_include_tax,
    }
