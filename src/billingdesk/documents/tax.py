"""The tax engine: which tax applies to a sale, at what rate, and the amounts per line and total.

Pure functions over plain data (no database): amounts come in and go out as ``int`` minor
units; ``Decimal`` is used only for the multiplication by a rate, and every result is rounded
explicitly with ``ROUND_HALF_UP`` (commercial rounding) to a whole minor unit.

Rounding follows what each regime expects:

* EU, UK, AU, NZ, CA: tax is computed **per rate on the document total** (EN 16931 BR-CO-17:
  the VAT category amount is the category's taxable amount times the rate, rounded), then
  spread back over the lines so that the lines add up exactly to the document.
* IN: GST is computed **per line** (rule 46 shows rate and amount per item), CGST and SGST
  each rounded separately, the document total being the sum of the lines.

Place-of-supply rules covered (electronically supplied services, the product's case):

* seller in the EU: domestic VAT; intra-EU B2B → reverse charge (Art. 44/196, mention per
  Art. 226(11a)); intra-EU B2C → VAT of the customer's country (Art. 58, OSS); outside the
  EU → out of scope.
* seller in GB: UK VAT for UK customers; outside the UK → outside the scope of UK VAT.
* seller in AU / NZ: GST for local customers; otherwise GST-free export / zero-rated.
* seller in CA: GST, or HST in the participating provinces, by the customer's province;
  otherwise zero-rated export.
* seller in IN: CGST + SGST inside one state, IGST between states; export zero-rated (LUT).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from billingdesk.core.errors import InvalidRequest

EU_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
    }
)
# Canadian provinces that levy the harmonized sales tax instead of the 5 % GST alone.
CA_HST_PROVINCES = frozenset({"ON", "NS", "NB", "NL", "PE"})

_HUNDRED = Decimal(100)
_ONE = Decimal(1)


class Treatment(StrEnum):
    """Why the document carries the tax it carries; drives the legal mentions."""

    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"  # EU B2B across borders: the customer accounts for VAT
    OSS = "oss"  # EU B2C digital services: VAT of the customer's member state
    OUTSIDE_SCOPE = "outside_scope"  # supply not taxed where the seller is (export of services)
    EXPORT = "export"  # zero-rated / GST-free export (AU, NZ, CA, IN)
    INTRA_STATE = "intra_state"  # India: CGST + SGST
    INTER_STATE = "inter_state"  # India: IGST
    NOT_REGISTERED = "not_registered"  # seller charges no tax at all


# EN 16931 VAT category codes (UNCL 5305) per treatment, used in the Factur-X XML.
CATEGORY: dict[Treatment, str] = {
    Treatment.DOMESTIC: "S",
    Treatment.REVERSE_CHARGE: "AE",
    Treatment.OSS: "S",
    Treatment.OUTSIDE_SCOPE: "O",
    Treatment.EXPORT: "Z",
    Treatment.INTRA_STATE: "S",
    Treatment.INTER_STATE: "S",
    Treatment.NOT_REGISTERED: "O",
}


@dataclass(frozen=True, slots=True)
class Rate:
    """One dated rate: ``percent`` applies from ``valid_from`` to ``valid_to`` inclusive."""

    country: str
    region: str
    name: str  # VAT, GST, HST, IGST, CGST, SGST
    percent: Decimal
    valid_from: date
    valid_to: date | None = None

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class RateTable:
    """The rates in force, looked up by country, region, tax name and date."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        self._rates = list(rates)

    def get(self, *, country: str, name: str, on: date, region: str = "") -> Decimal:
        for rate in self._rates:
            if (
                rate.country == country
                and rate.region == region
                and rate.name == name
                and rate.applies_on(on)
            ):
                return rate.percent
        raise InvalidRequest(
            f"no {name} rate for {country}{'-' + region if region else ''} on {on.isoformat()}",
            code="tax_rate_missing",
        )

    def __iter__(self) -> Iterable[Rate]:  # type: ignore[override]
        return iter(self._rates)


RATES_FILE = Path(__file__).with_name("data") / "rates.json"


def rates_from_rows(rows: Iterable[Sequence[str | None]]) -> list[Rate]:
    """Rates from ``[country, region, name, percent, valid_from, valid_to]`` rows."""
    out = []
    for country, region, name, percent, start, end in rows:
        assert country and name and percent and start
        out.append(
            Rate(
                country=country,
                region=region or "",
                name=name,
                percent=Decimal(percent),
                valid_from=date.fromisoformat(start),
                valid_to=date.fromisoformat(end) if end else None,
            )
        )
    return out


@lru_cache(maxsize=1)
def default_rate_table() -> RateTable:
    """The rates shipped with billingdesk (``data/rates.json``), which seed the database."""
    rows = json.loads(RATES_FILE.read_text())["rates"]
    return RateTable(rates_from_rows(rows))


@dataclass(frozen=True, slots=True)
class Party:
    """Where a seller or buyer is, for tax purposes."""

    country: str  # ISO 3166-1 alpha-2
    region: str = ""  # CA province, IN state code (e.g. "KA" or GST state number)
    # The buyer communicated a validated tax id (EU: Impl. Reg. 282/2011 art. 18).
    is_business: bool = False
    registered: bool = True  # the seller is registered for tax where it is


@dataclass(frozen=True, slots=True)
class LineIn:
    description: str
    unit_amount: int  # minor units, incl. or excl. tax as the sale says
    quantity: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.unit_amount, bool) or not isinstance(self.unit_amount, int):
            raise InvalidRequest("unit amounts are integer minor units")
        if self.quantity <= 0:
            raise InvalidRequest("a line's quantity must be positive")


@dataclass(frozen=True, slots=True)
class TaxComponent:
    name: str  # VAT, GST, HST, CGST, SGST, IGST
    percent: Decimal


@dataclass(frozen=True, slots=True)
class LineOut:
    description: str
    quantity: int
    unit_net: int  # unit price excl. tax (rounded), as Art. 226(8) wants it shown
    net: int
    tax: int
    gross: int
    percent: Decimal  # the total rate on the line
    category: str


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One line of the tax summary: a tax name and rate with its base and amount."""

    name: str
    percent: Decimal
    taxable: int
    amount: int
    category: str


@dataclass(frozen=True, slots=True)
class TaxResult:
    treatment: Treatment
    tax_country: str  # whose tax is charged (OSS: the customer's country)
    category: str
    lines: list[LineOut]
    tax_lines: list[TaxLine]
    net: int
    tax: int
    gross: int
    prices_include_tax: bool
    components: list[TaxComponent] = field(default_factory=list)


def percent_text(value: Decimal) -> str:
    """A rate as stored on documents: ``20``, ``9.975``, never ``20.0000`` or ``2E+1``."""
    return format(value.normalize(), "f")


def round_minor(value: Decimal) -> int:
    """A Decimal amount of minor units to a whole minor unit, half away from zero."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def tax_of_net(net: int, percent: Decimal) -> int:
    """Tax on a tax-exclusive amount."""
    return round_minor(Decimal(net) * percent / _HUNDRED)


def determine(
    *, seller: Party, buyer: Party, on: date, rates: RateTable
) -> tuple[Treatment, str, list[TaxComponent]]:
    """Which regime applies and which tax components (name, rate) the sale carries."""
    s, b = seller.country.upper(), buyer.country.upper()
    if not seller.registered:
        return Treatment.NOT_REGISTERED, s, []
    if s in EU_COUNTRIES:
        if b == s:
            return Treatment.DOMESTIC, s, [_c(rates, s, "VAT", on)]
        if b in EU_COUNTRIES:
            if buyer.is_business:
                return Treatment.REVERSE_CHARGE, b, [TaxComponent("VAT", Decimal(0))]
            return Treatment.OSS, b, [_c(rates, b, "VAT", on)]
        return Treatment.OUTSIDE_SCOPE, s, [TaxComponent("VAT", Decimal(0))]
    if s == "GB":
        if b == "GB":
            return Treatment.DOMESTIC, s, [_c(rates, s, "VAT", on)]
        return Treatment.OUTSIDE_SCOPE, s, [TaxComponent("VAT", Decimal(0))]
    if s in {"AU", "NZ"}:
        if b == s:
            return Treatment.DOMESTIC, s, [_c(rates, s, "GST", on)]
        return Treatment.EXPORT, s, [TaxComponent("GST", Decimal(0))]
    if s == "CA":
        if b != "CA":
            return Treatment.EXPORT, s, [TaxComponent("GST", Decimal(0))]
        province = buyer.region.upper()
        if not province:
            raise InvalidRequest("a Canadian customer needs a province to charge GST/HST")
        if province in CA_HST_PROVINCES:
            return Treatment.DOMESTIC, s, [_c(rates, s, "HST", on, province)]
        return Treatment.DOMESTIC, s, [_c(rates, s, "GST", on)]
    if s == "IN":
        if b != "IN":
            return Treatment.EXPORT, s, [TaxComponent("IGST", Decimal(0))]
        if not seller.region:
            raise InvalidRequest(
                "Indian GST needs the seller's state: give the legal entity its GSTIN or state"
            )
        # An unregistered recipient with no known address: the place of supply is the
        # supplier's location (IGST Act s. 12(2)(b)).
        place = buyer.region or seller.region
        if seller.region.upper() == place.upper():
            return (
                Treatment.INTRA_STATE,
                s,
                [_c(rates, s, "CGST", on), _c(rates, s, "SGST", on)],
            )
        return Treatment.INTER_STATE, s, [_c(rates, s, "IGST", on)]
    return Treatment.NOT_REGISTERED, s, []


def _c(rates: RateTable, country: str, name: str, on: date, region: str = "") -> TaxComponent:
    return TaxComponent(name, rates.get(country=country, name=name, on=on, region=region))


def compute(
    *,
    seller: Party,
    buyer: Party,
    lines: Sequence[LineIn],
    on: date,
    prices_include_tax: bool,
    rates: RateTable | None = None,
) -> TaxResult:
    """Tax a sale: the regime, each line's net/tax/gross and the per-rate summary."""
    if not lines:
        raise InvalidRequest("a document needs at least one line")
    table = rates or default_rate_table()
    treatment, tax_country, components = determine(seller=seller, buyer=buyer, on=on, rates=table)
    category = CATEGORY[treatment]
    total_percent = sum((c.percent for c in components), Decimal(0))
    amounts = [line.unit_amount * line.quantity for line in lines]
    per_line = seller.country.upper() == "IN"
    if per_line:
        line_taxes = [
            [_component_tax(a, c.percent, total_percent, prices_include_tax) for c in components]
            for a in amounts
        ]
        taxes = [sum(t) for t in line_taxes]
        component_totals = [sum(t[i] for t in line_taxes) for i in range(len(components))]
    else:
        total = sum(amounts)
        component_totals = [
            _component_tax(total, c.percent, total_percent, prices_include_tax) for c in components
        ]
        taxes = spread(sum(component_totals), amounts)
    out_lines: list[LineOut] = []
    for line, amount, tax in zip(lines, amounts, taxes, strict=True):
        net = amount - tax if prices_include_tax else amount
        out_lines += _exact_lines(line, net, tax, total_percent, category)
    net_total = sum(line.net for line in out_lines)
    tax_lines = [
        TaxLine(c.name, c.percent, net_total, amount, category)
        for c, amount in zip(components, component_totals, strict=True)
    ]
    if not components:
        tax_lines = [TaxLine("", Decimal(0), net_total, 0, category)]
    tax_total = sum(component_totals)
    return TaxResult(
        treatment=treatment,
        tax_country=tax_country,
        category=category,
        lines=out_lines,
        tax_lines=tax_lines,
        net=net_total,
        tax=tax_total,
        gross=net_total + tax_total,
        prices_include_tax=prices_include_tax,
        components=components,
    )


def _exact_lines(
    line: LineIn, net: int, tax: int, percent: Decimal, category: str
) -> list[LineOut]:
    """One line, or two when the net is not a multiple of the quantity.

    A tax-inclusive price leaves a net that rarely divides by the quantity (999 incl. 20 %
    x 3 → 2498 net); printing a rounded unit price would make quantity x unit price differ
    from the line (EN 16931 BT-131 = BT-129 x BT-146). So the units are split in two lines at
    ``net // q`` and ``net // q + 1`` minor units, and the line's tax is shared between them.
    """
    low, high_units = divmod(net, line.quantity)
    if high_units == 0:
        parts = [(line.quantity, low)]
    else:
        parts = [(line.quantity - high_units, low), (high_units, low + 1)]
    part_nets = [quantity * unit for quantity, unit in parts]
    part_taxes = spread(tax, part_nets) if len(parts) > 1 else [tax]
    return [
        LineOut(
            description=line.description,
            quantity=quantity,
            unit_net=unit,
            net=part_net,
            tax=part_tax,
            gross=part_net + part_tax,
            percent=percent,
            category=category,
        )
        for (quantity, unit), part_net, part_tax in zip(parts, part_nets, part_taxes, strict=True)
    ]


def _component_tax(amount: int, percent: Decimal, total_percent: Decimal, inclusive: bool) -> int:
    """One component's tax on an amount; for inclusive prices the base is net of *all* taxes."""
    if not inclusive:
        return tax_of_net(amount, percent)
    if total_percent == 0:
        return 0
    # Split the tax contained in the gross amount between components in proportion to
    # their rates (CGST 9 % + SGST 9 % each get half of the 18 % contained).
    return round_minor(Decimal(amount) * percent / (_HUNDRED + total_percent))


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """Share ``total`` over lines in proportion to ``weights``, summing exactly to ``total``.

    Largest-remainder method, so a document-level rounding never makes the lines disagree
    with the document.
    """
    base = sum(weights)
    if base == 0:
        return [0 for _ in weights]
    shares = [Decimal(total) * Decimal(w) / Decimal(base) for w in weights]
    floors = [int(s.to_integral_value(rounding="ROUND_FLOOR")) for s in shares]
    rest = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[:rest]:
        floors[i] += 1
    return floors
