"""The tax summary of a period, from the issued documents (not from the charges): invoices
and receipts add, credit notes subtract, each on the local day it was issued.

Per tax country, treatment, currency and rate: the taxable base and the tax of the
documents' tax lines. The regimes are kept apart the way returns ask: domestic, EU reverse
charge, OSS (the customer's member state's VAT, declared through the One-Stop Shop), and
exempt / outside the scope (exports, supplies not taxed where the seller is, a seller not
registered); India's intra- and inter-state supplies are domestic. The totals are the
documents' own ``net`` and ``tax``, so the summary agrees with them to the cent.

It reads the daily tax rollup (``reports.taxdays``: each document added once, when issued),
not the documents, so a quarter costs the same with a thousand documents or a million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Sum

from billingdesk.reports.models import DocumentDay, TaxDay

REGIME = {
    "domestic": "domestic",
    "intra_state": "domestic",
    "inter_state": "domestic",
    "reverse_charge": "reverse_charge",
    "oss": "oss",
    "outside_scope": "exempt",
    "export": "exempt",
    "not_registered": "exempt",
}


@dataclass
class TaxLineTotal:
    regime: str
    tax_country: str
    treatment: str
    currency: str
    name: str
    percent: str
    taxable: int = 0
    tax: int = 0
    documents: int = 0
    credit_notes: int = 0


@dataclass
class DocumentTotal:
    currency: str
    net: int = 0
    tax: int = 0
    gross: int = 0
    documents: int = 0
    credit_notes: int = 0


@dataclass
class TaxSummary:
    start: date
    end: date
    lines: list[TaxLineTotal]
    totals: list[DocumentTotal]  # per currency, from the documents' totals

    def oss(self) -> list[TaxLineTotal]:
        """The OSS return's rows: per member state of consumption and rate."""
        return [line for line in self.lines if line.regime == "oss"]


def tax_summary(*, start: date, end: date, legal_entity_id: int | None = None) -> TaxSummary:
    """The summary of the local days ``start``..``end``, from the daily tax rollup (a few
    rows a day whatever the number of documents; ``reports.taxdays`` keeps it)."""
    taxes = TaxDay.objects.filter(day__gte=start, day__lte=end)
    days = DocumentDay.objects.filter(day__gte=start, day__lte=end)
    if legal_entity_id is not None:
        taxes = taxes.filter(legal_entity_id=legal_entity_id)
        days = days.filter(legal_entity_id=legal_entity_id)
    key = ("tax_country", "treatment", "currency", "name", "percent")
    lines: dict[tuple[str, str, str, str, str, str], TaxLineTotal] = {}
    row: dict[str, Any]
    for row in taxes.values(*key).annotate(**_sums("taxable", "tax")).order_by():
        regime = REGIME.get(row["treatment"], "exempt")
        k = (regime, *(row[name] for name in key))
        line = lines.setdefault(k, TaxLineTotal(*k))  # type: ignore[arg-type]
        line.taxable += row["s_taxable"] or 0
        line.tax += row["s_tax"] or 0
        line.documents += row["s_documents"] or 0
        line.credit_notes += row["s_credit_notes"] or 0
    totals: dict[str, DocumentTotal] = {}
    grouped: Any = days.values("currency").annotate(**_sums("net", "tax", "gross")).order_by()
    for row in grouped:
        totals[row["currency"]] = DocumentTotal(
            row["currency"],
            net=row["s_net"] or 0,
            tax=row["s_tax"] or 0,
            gross=row["s_gross"] or 0,
            documents=row["s_documents"] or 0,
            credit_notes=row["s_credit_notes"] or 0,
        )
    return TaxSummary(
        start, end, [lines[k] for k in sorted(lines)], [totals[c] for c in sorted(totals)]
    )


def _sums(*names: str) -> dict[str, Sum]:
    return {f"s_{n}": Sum(n) for n in (*names, "documents", "credit_notes")}
