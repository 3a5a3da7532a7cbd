"""The tax engine, per jurisdiction: regime, rates, rounding, inclusive and exclusive prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.tax import LineIn, Party, Treatment, compute, default_rate_table

DAY = date(2026, 11, 21)


def _one(seller: Party, buyer: Party, amount: int, *, inclusive: bool = False, on: date = DAY):
    return compute(
        seller=seller,
        buyer=buyer,
        lines=[LineIn("Pro plan", amount)],
        on=on,
        prices_include_tax=inclusive,
    )


@pytest.mark.parametrize(
    ("seller", "buyer", "treatment", "percent", "tax", "tax_country"),
    [
        (Party("FR"), Party("FR"), Treatment.DOMESTIC, "20", 2000, "FR"),
        (Party("FR"), Party("FR", is_business=True), Treatment.DOMESTIC, "20", 2000, "FR"),
        (Party("FR"), Party("DE", is_business=True), Treatment.REVERSE_CHARGE, "0", 0, "DE"),
        (Party("FR"), Party("DE"), Treatment.OSS, "19", 1900, "DE"),
        (Party("ES"), Party("ES"), Treatment.DOMESTIC, "21", 2100, "ES"),
        (Party("DE"), Party("DE"), Treatment.DOMESTIC, "19", 1900, "DE"),
        (Party("DE"), Party("US"), Treatment.OUTSIDE_SCOPE, "0", 0, "DE"),
        (Party("GB"), Party("GB"), Treatment.DOMESTIC, "20", 2000, "GB"),
        (Party("GB"), Party("FR", is_business=True), Treatment.OUTSIDE_SCOPE, "0", 0, "GB"),
        (Party("AU"), Party("AU"), Treatment.DOMESTIC, "10", 1000, "AU"),
        (Party("AU"), Party("NZ"), Treatment.EXPORT, "0", 0, "AU"),
        (Party("NZ"), Party("NZ"), Treatment.DOMESTIC, "15", 1500, "NZ"),
        (Party("CA"), Party("CA", region="ON"), Treatment.DOMESTIC, "13", 1300, "CA"),
        (Party("CA"), Party("CA", region="AB"), Treatment.DOMESTIC, "5", 500, "CA"),
        (Party("CA"), Party("CA", region="NS"), Treatment.DOMESTIC, "14", 1400, "CA"),
        (
            Party("IN", region="KA"),
            Party("IN", region="KA"),
            Treatment.INTRA_STATE,
            "18",
            1800,
            "IN",
        ),
        (
            Party("IN", region="KA"),
            Party("IN", region="MH"),
            Treatment.INTER_STATE,
            "18",
            1800,
            "IN",
        ),
        (Party("IN", region="KA"), Party("US"), Treatment.EXPORT, "0", 0, "IN"),
    ],
)
def test_regime_rate_and_amount_per_jurisdiction(
    seller, buyer, treatment, percent, tax, tax_country
):
    result = _one(seller, buyer, 10000)
    assert result.treatment == treatment
    assert result.tax_country == tax_country
    assert sum(t.percent for t in result.tax_lines) == Decimal(percent)
    assert (result.net, result.tax, result.gross) == (10000, tax, 10000 + tax)


def test_reverse_charge_is_category_ae_and_oss_is_standard():
    assert _one(Party("FR"), Party("IT", is_business=True), 5000).category == "AE"
    assert _one(Party("FR"), Party("IT"), 5000).category == "S"


def test_india_intra_state_splits_cgst_and_sgst():
    result = _one(Party("IN", region="KA"), Party("IN", region="KA"), 99999)
    assert [(t.name, t.percent, t.amount) for t in result.tax_lines] == [
        ("CGST", Decimal(9), 9000),
        ("SGST", Decimal(9), 9000),
    ]
    assert result.tax == 18000


def test_india_rounds_per_line_eu_per_document():
    lines = [LineIn("a", 5), LineIn("b", 5), LineIn("c", 5)]  # 0.05 each
    eu = compute(
        seller=Party("FR"), buyer=Party("FR"), lines=lines, on=DAY, prices_include_tax=False
    )
    # 15 * 20 % = 3: one rounding on the document total
    assert eu.tax == 3
    assert sum(line.tax for line in eu.lines) == 3
    ind = compute(
        seller=Party("IN", region="KA"),
        buyer=Party("IN", region="MH"),
        lines=lines,
        on=DAY,
        prices_include_tax=False,
    )
    # 5 * 18 % = 0.9 -> 1 per line, three lines
    assert ind.tax == 3 and [line.tax for line in ind.lines] == [1, 1, 1]
    eu2 = compute(
        seller=Party("FR"),
        buyer=Party("FR"),
        lines=[LineIn("a", 3), LineIn("b", 3)],
        on=DAY,
        prices_include_tax=False,
    )
    # per document: 6 * 20 % = 1.2 -> 1; per line it would have been 1 + 1 = 2
    assert eu2.tax == 1


def test_tax_inclusive_price_contains_the_tax():
    result = _one(Party("AU"), Party("AU"), 1100, inclusive=True)
    assert (result.net, result.tax, result.gross) == (1000, 100, 1100)
    result = _one(Party("FR"), Party("FR"), 999, inclusive=True)
    # 999 / 1.2 = 832.5 -> tax 166.5 rounds half up to 167
    assert (result.net, result.tax, result.gross) == (832, 167, 999)


def test_inclusive_lines_add_up_to_the_document():
    lines = [LineIn("a", 333), LineIn("b", 333), LineIn("c", 334)]
    result = compute(
        seller=Party("DE"), buyer=Party("DE"), lines=lines, on=DAY, prices_include_tax=True
    )
    assert result.gross == 1000
    assert sum(line.net for line in result.lines) == result.net
    assert sum(line.tax for line in result.lines) == result.tax
    assert sum(line.gross for line in result.lines) == 1000


def test_rates_are_dated():
    before = _one(Party("SK"), Party("SK"), 10000, on=date(2024, 12, 31))
    after = _one(Party("SK"), Party("SK"), 10000, on=date(2025, 1, 1))
    assert (before.tax, after.tax) == (2000, 2300)


def test_missing_rate_is_a_clear_error():
    with pytest.raises(InvalidRequest, match="no VAT rate for FR on 1990-01-01"):
        _one(Party("FR"), Party("FR"), 100, on=date(1990, 1, 1))


def test_canada_needs_a_province():
    with pytest.raises(InvalidRequest, match="province"):
        _one(Party("CA"), Party("CA"), 100)


def test_rate_table_covers_every_eu_country_today():
    from billingdesk.documents.tax import EU_COUNTRIES

    table = default_rate_table()
    for country in EU_COUNTRIES:
        assert table.get(country=country, name="VAT", on=DAY) > 0


def test_lines_refuse_bad_amounts():
    with pytest.raises(InvalidRequest):
        LineIn("x", 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        LineIn("x", 100, quantity=0)


@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize(
    ("seller", "buyer"),
    [
        (Party("FR"), Party("FR")),
        (Party("IN", "KA"), Party("IN", "KA")),
        (Party("AU"), Party("AU")),
    ],
)
def test_every_line_is_exactly_unit_price_times_quantity(seller, buyer, inclusive):
    # 999 incl. 20 % VAT x 3 = 2997 gross, 2497.50 → 2498 net: not a multiple of 3. The line
    # is split into units at 832 and 833 so that each printed line is exact (EN 16931 BT-131
    # = BT-129 x BT-146), and the document still adds up.
    result = compute(
        seller=seller,
        buyer=buyer,
        lines=[LineIn("Seats", 999, 3), LineIn("Add-on", 1001, 7), LineIn("Setup", 5000)],
        on=DAY,
        prices_include_tax=inclusive,
    )
    for line in result.lines:
        assert line.unit_net * line.quantity == line.net, line
        assert line.net + line.tax == line.gross
    assert sum(line.quantity for line in result.lines if line.description == "Seats") == 3
    assert sum(line.quantity for line in result.lines if line.description == "Add-on") == 7
    assert sum(line.net for line in result.lines) == result.net
    assert sum(line.tax for line in result.lines) == result.tax
    assert result.net + result.tax == result.gross
    if inclusive:
        assert result.gross == 999 * 3 + 1001 * 7 + 5000
