"""The tax summary of a period, from the issued documents (not from the charges): invoices
and receipts add, credit notes subtract, each on the local day it was issued.

Per tax country, treatment, currency and rate: the taxable base and the tax of the
documents' tax lines. The regimes are kept apart the way returns ask: domestic, EU reverse
charge, OSS (the customer's member state's VAT, declared through the One-Stop Shop), and
exempt / outside the scope (exports, supplies not taxed where the seller is, a seller not
registered); India's intra- and inter-state supplies are domestic. The totals are the
documents' own ``net`` and ``tax``, so the summary agrees with them to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billingdesk.documents.models import Document, DocumentKind
from billingdesk.reports.rollups import day_start

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
    qs = Document.objects.filter(
        issued_at__gte=day_start(start), issued_at__lt=day_start(end + timedelta(days=1))
    )
    if legal_entity_id is not None:
        qs = qs.filter(legal_entity_id=legal_entity_id)
    lines: dict[tuple[str, str, str, str, str, str], TaxLineTotal] = {}
    totals: dict[str, DocumentTotal] = {}
    rows = qs.values_list(
        "kind", "tax_country", "treatment", "currency", "tax_lines", "net", "tax", "gross"
    ).order_by()
    for kind, country, treatment, currency, tax_lines, net, tax, gross in rows.iterator(
        chunk_size=2000
    ):
        sign = -1 if kind == DocumentKind.CREDIT_NOTE else 1
        total = totals.setdefault(currency, DocumentTotal(currency))
        total.net += sign * net
        total.tax += sign * tax
        total.gross += sign * gross
        total.documents += sign > 0
        total.credit_notes += sign < 0
        regime = REGIME.get(treatment, "exempt")
        for item in tax_lines or []:
            name, percent = str(item.get("name", "")), str(item.get("percent", ""))
            key = (regime, country, treatment, currency, name, percent)
            line = lines.setdefault(key, TaxLineTotal(*key))
            line.taxable += sign * int(item.get("taxable", 0))
            line.tax += sign * int(item.get("amount", 0))
            line.documents += sign > 0
            line.credit_notes += sign < 0
    return TaxSummary(
        start, end, [lines[k] for k in sorted(lines)], [totals[c] for c in sorted(totals)]
    )
