"""The boxes of the UK, Australian and Indian tax returns, filled from the issued documents.

Each legal entity registered in the United Kingdom, Australia or India gets its return for
the period, built from ``tax_summary`` of that entity alone (invoices and receipts add,
credit notes subtract), so the boxes agree with the tax summary and with the documents to
the unit. Only the **sales** side can be filled: billingdesk does not know the merchant's
purchases, so the boxes about them (input tax) are left empty and say so, and the boxes that
need them (UK box 5) are given as what to compute.

A return is made in one currency (GBP, AUD, INR). Documents issued in another currency are
left out of the boxes and named beside them: converting them is the filer's decision (HMRC
and the ATO each set the rate to use).

* **UK VAT return** (HMRC, Making Tax Digital, boxes 1-9): box 1 the VAT on domestic sales;
  box 2 is about goods from the EU into Northern Ireland (none: billingdesk sells services);
  box 3 = 1 + 2; box 6 every sale without VAT, including those outside the scope of UK VAT
  (services to customers abroad), in whole pounds like boxes 7-9; box 8 (goods to the EU)
  is nil for services.
* **Australian BAS** (GST, sales part): G1 total sales including GST, G2 export sales,
  G3 other GST-free sales, 1A GST on sales.
* **Indian GSTR-3B**, table 3.1: (a) outward taxable supplies with their IGST, CGST and SGST;
  (b) zero-rated supplies (exports under LUT); (c) nil-rated and exempt supplies (none are
  issued by billingdesk). An intra-state supply carries a CGST and an SGST line on the same
  base: its taxable value is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_lazy as _

from billingdesk.documents.models import LegalEntity
from billingdesk.reports.selectors.tax import TaxLineTotal, tax_summary

RETURN_CURRENCY = {"GB": "GBP", "AU": "AUD", "IN": "INR"}


@dataclass
class ReturnBox:
    code: str  # as the form numbers it: "1", "6", "G1", "1A", "3.1(a)"
    label: str
    amount: int | None  # minor units of the return's currency; None: not known here
    whole_units: bool = False  # the form takes whole units (UK boxes 6-9)
    note: str = ""

    @property
    def shown_amount(self) -> int | None:
        """What to enter: whole units are truncated toward zero (HMRC: pence left out)."""
        if self.amount is None or not self.whole_units:
            return self.amount
        sign = -1 if self.amount < 0 else 1
        return sign * (abs(self.amount) // 100 * 100)


@dataclass
class TaxReturn:
    country: str
    title: str
    entity_id: int
    entity_name: str
    currency: str
    start: date
    end: date
    boxes: list[ReturnBox]
    other_currencies: list[str] = field(default_factory=list)


def _sum(lines: list[TaxLineTotal], attr: str) -> int:
    return sum(getattr(line, attr) for line in lines)


def _uk(lines: list[TaxLineTotal]) -> list[ReturnBox]:
    domestic = [t for t in lines if t.treatment == "domestic"]
    vat_on_sales = _sum(domestic, "tax")
    purchases = str(_("Purchases are not in billingdesk: from your own records."))
    return [
        ReturnBox("1", str(_("VAT due on sales and other outputs")), vat_on_sales),
        ReturnBox(
            "2",
            str(_("VAT due on acquisitions of goods from the EU (Northern Ireland)")),
            0,
            note=str(_("Services only: nothing to declare.")),
        ),
        ReturnBox("3", str(_("Total VAT due (box 1 + box 2)")), vat_on_sales),
        ReturnBox("4", str(_("VAT reclaimed on purchases and other inputs")), None, note=purchases),
        ReturnBox(
            "5",
            str(_("Net VAT to pay or reclaim")),
            None,
            note=str(_("Box 3 less your box 4.")),
        ),
        ReturnBox(
            "6",
            str(_("Total value of sales and all other outputs, excluding VAT")),
            _sum(lines, "taxable"),
            whole_units=True,
            note=str(_("Includes sales outside the scope of UK VAT.")),
        ),
        ReturnBox(
            "7",
            str(_("Total value of purchases and all other inputs, excluding VAT")),
            None,
            whole_units=True,
            note=purchases,
        ),
        ReturnBox(
            "8",
            str(_("Total value of supplies of goods to the EU (Northern Ireland)")),
            0,
            whole_units=True,
            note=str(_("Services only: nothing to declare.")),
        ),
        ReturnBox(
            "9",
            str(_("Total value of acquisitions of goods from the EU (Northern Ireland)")),
            None,
            whole_units=True,
            note=purchases,
        ),
    ]


def _au(lines: list[TaxLineTotal]) -> list[ReturnBox]:
    export = [t for t in lines if t.treatment == "export"]
    domestic = [t for t in lines if t.treatment == "domestic"]
    gst_free = [t for t in domestic if t.tax == 0 and t.percent in ("0", "")]
    return [
        ReturnBox(
            "G1",
            str(_("Total sales (including any GST)")),
            _sum(lines, "taxable") + _sum(lines, "tax"),
        ),
        ReturnBox("G2", str(_("Export sales")), _sum(export, "taxable")),
        ReturnBox("G3", str(_("Other GST-free sales")), _sum(gst_free, "taxable")),
        ReturnBox("1A", str(_("GST on sales")), _sum(lines, "tax")),
        ReturnBox(
            "1B",
            str(_("GST on purchases")),
            None,
            note=str(_("Purchases are not in billingdesk: from your own records.")),
        ),
    ]


def _in(lines: list[TaxLineTotal]) -> list[ReturnBox]:
    taxable = [t for t in lines if t.treatment in ("intra_state", "inter_state")]
    zero = [t for t in lines if t.treatment == "export"]

    def of(name: str, group: list[TaxLineTotal]) -> list[TaxLineTotal]:
        return [t for t in group if t.name == name]

    # The base once per supply: the IGST line of an inter-state one, the CGST line of an
    # intra-state one (its SGST line repeats the same base).
    base = of("IGST", taxable) + of("CGST", taxable)
    return [
        ReturnBox(
            "3.1(a)",
            str(_("Outward taxable supplies: taxable value")),
            _sum(base, "taxable"),
        ),
        ReturnBox(
            "3.1(a)",
            str(_("Outward taxable supplies: integrated tax (IGST)")),
            _sum(of("IGST", taxable), "tax"),
        ),
        ReturnBox(
            "3.1(a)",
            str(_("Outward taxable supplies: central tax (CGST)")),
            _sum(of("CGST", taxable), "tax"),
        ),
        ReturnBox(
            "3.1(a)",
            str(_("Outward taxable supplies: state/UT tax (SGST)")),
            _sum(of("SGST", taxable), "tax"),
        ),
        ReturnBox(
            "3.1(b)",
            str(_("Zero-rated supplies (exports): taxable value")),
            _sum(zero, "taxable"),
        ),
        ReturnBox(
            "3.1(b)",
            str(_("Zero-rated supplies (exports): integrated tax (IGST)")),
            _sum(zero, "tax"),
        ),
        ReturnBox(
            "3.1(c)",
            str(_("Nil-rated and exempted supplies")),
            0,
            note=str(_("billingdesk issues no nil-rated or exempt invoices.")),
        ),
    ]


BUILDERS = {
    "GB": (_("UK VAT return"), _uk),
    "AU": (_("Business activity statement (GST)"), _au),
    "IN": (_("GSTR-3B, table 3.1"), _in),
}


def tax_returns(*, start: date, end: date) -> list[TaxReturn]:
    """One return per legal entity registered in GB, AU or IN that issued documents in the
    period (none for an entity with nothing issued)."""
    returns = []
    entities = LegalEntity.objects.filter(country__in=list(BUILDERS), tax_registered=True).order_by(
        "country", "name", "pk"
    )
    for entity in entities:
        summary = tax_summary(start=start, end=end, legal_entity_id=entity.pk)
        if not summary.totals:
            continue
        currency = RETURN_CURRENCY[entity.country]
        title, build = BUILDERS[entity.country]
        lines = [t for t in summary.lines if t.currency == currency]
        returns.append(
            TaxReturn(
                country=entity.country,
                title=str(title),
                entity_id=entity.pk,
                entity_name=entity.name,
                currency=currency,
                start=start,
                end=end,
                boxes=build(lines),
                other_currencies=sorted(
                    {t.currency for t in summary.totals if t.currency != currency}
                ),
            )
        )
    return returns
