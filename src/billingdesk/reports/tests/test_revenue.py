"""Revenue agrees with an independent computation over the same gateway objects: per
currency (never added across currencies), per month, week and day in the reporting time
zone, per account and product, with partial refunds, lost and won disputes, failed charges,
and a conversion at stored ECB rates."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from billingdesk.core.errors import InvalidRequest
from billingdesk.documents.exchange import rates_load
from billingdesk.gateways import interface as gw
from billingdesk.reports.rollups import revenue_rollup_rebuild
from billingdesk.reports.selectors.revenue import revenue_report

from .builders import account, charge, dispute, refund

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def _at(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


class Ledger:
    """The expected figures, kept by hand beside what the gateway objects say."""

    def __init__(self) -> None:
        self.moves: list[tuple[datetime, str, str, str, str, int]] = []

    def add(self, at: datetime, acct: str, currency: str, product: str, what: str, n: int) -> None:
        self.moves.append((at, acct, currency, product, what, n))

    def by(self, start: date, end: date, bucket, key) -> dict[tuple, dict[str, int]]:
        out: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for at, acct, currency, product, what, n in self.moves:
            local = at.astimezone(PARIS).date()
            if start <= local <= end:
                out[(bucket(local), key(acct, product), currency)][what] += n
        return out


def _month(day: date) -> date:
    return day.replace(day=1)


@pytest.fixture
def world():
    with override_settings(TIME_ZONE="Europe/Paris"):
        eu, us = account("EU store"), account("US store", "USD")
        ledger = Ledger()

        def paid(acct, at, amount, currency, product="Pro"):
            obj = charge(acct, at, amount, currency, product=product)
            ledger.add(at, acct.name, currency, product, "gross", amount)
            return obj

        a = paid(eu, _at(2026, 1, 5), 12000, "EUR")
        b = paid(eu, _at(2026, 1, 20), 5000, "EUR", "Starter")
        c = paid(us, _at(2026, 1, 21), 9900, "USD")
        # 23:30 UTC on 31 January is 00:30 on 1 February in Paris: February revenue.
        d = paid(eu, _at(2026, 1, 31, 23, 30), 3000, "EUR")
        e = paid(us, _at(2026, 2, 10), 120000, "JPY", "Team")
        paid(eu, _at(2026, 2, 11), 700, "EUR")
        # Not revenue: a failed charge, an authorisation never captured.
        charge(eu, _at(2026, 1, 6), 99999, "EUR", status=gw.ChargeStatus.FAILED)
        charge(eu, _at(2026, 1, 7), 88888, "EUR", status=gw.ChargeStatus.AUTHORIZED)
        # Partial refunds, one pending (not counted) and one failed (not counted).
        refund(eu, a, _at(2026, 2, 2), 2500)
        ledger.add(_at(2026, 2, 2), "EU store", "EUR", "Pro", "refunds", 2500)
        refund(eu, a, _at(2026, 2, 3), 1000)
        ledger.add(_at(2026, 2, 3), "EU store", "EUR", "Pro", "refunds", 1000)
        refund(eu, b, _at(2026, 1, 22), 100, status=gw.RefundStatus.PENDING)
        refund(us, c, _at(2026, 1, 25), 9900, status=gw.RefundStatus.FAILED)
        refund(us, e, _at(2026, 2, 12), 20000)
        ledger.add(_at(2026, 2, 12), "US store", "JPY", "Team", "refunds", 20000)
        # Disputes: the lost one counts on the day it was opened, the won one not at all.
        dispute(us, c, _at(2026, 2, 1, 10))
        ledger.add(_at(2026, 2, 1, 10), "US store", "USD", "Pro", "disputes_lost", 9900)
        dispute(eu, d, _at(2026, 2, 5), status=gw.DisputeStatus.WON)
        yield eu, us, ledger


def _flatten(report) -> dict[tuple, dict[str, int]]:
    return {
        (row.bucket, row.key, row.currency): {
            k: v
            for k, v in (
                ("gross", row.gross),
                ("refunds", row.refunds),
                ("disputes_lost", row.disputes_lost),
            )
            if v
        }
        for row in report.rows
    }


def _expected(ledger, start, end, bucket, key=lambda acct, product: ""):
    return {
        k: {w: n for w, n in v.items() if n} for k, v in ledger.by(start, end, bucket, key).items()
    }


def test_monthly_revenue_per_currency_matches_the_ledger(world):
    _eu, _us, ledger = world
    with override_settings(TIME_ZONE="Europe/Paris"):
        report = revenue_report(start=date(2026, 1, 1), end=date(2026, 2, 28), group="month")
    assert _flatten(report) == _expected(ledger, date(2026, 1, 1), date(2026, 2, 28), _month)
    totals = {
        row.currency: (row.gross, row.refunds, row.disputes_lost, row.net) for row in report.totals
    }
    assert totals == {
        "EUR": (12000 + 5000 + 3000 + 700, 3500, 0, 20700 - 3500),
        "JPY": (120000, 20000, 0, 100000),
        "USD": (9900, 0, 9900, 0),
    }
    # The charge at 23:30 UTC on 31 January is in February (Paris).
    feb = next(r for r in report.rows if r.bucket == date(2026, 2, 1) and r.currency == "EUR")
    assert feb.gross == 3000 + 700 and feb.charges == 2


def test_split_by_account_and_by_product_and_filters(world):
    _eu, us, ledger = world
    start, end = date(2026, 1, 1), date(2026, 2, 28)
    with override_settings(TIME_ZONE="Europe/Paris"):
        by_account = revenue_report(start=start, end=end, group="month", by="account")
        by_product = revenue_report(start=start, end=end, group="week", by="product")
        only_us_usd = revenue_report(start=start, end=end, account=us, currency="USD")
        starter = revenue_report(start=start, end=end, product="Starter")
    assert _flatten(by_account) == _expected(ledger, start, end, _month, lambda a, p: a)

    def week(day: date) -> date:
        return day - timedelta(days=day.weekday())

    assert _flatten(by_product) == _expected(ledger, start, end, week, lambda a, p: p)
    assert {(r.currency, r.gross, r.disputes_lost) for r in only_us_usd.totals} == {
        ("USD", 9900, 9900)
    }
    assert [(r.currency, r.gross) for r in starter.totals] == [("EUR", 5000)]


def test_daily_revenue_of_a_short_period(world):
    _, _, ledger = world
    start, end = date(2026, 2, 1), date(2026, 2, 3)
    with override_settings(TIME_ZONE="Europe/Paris"):
        report = revenue_report(start=start, end=end, group="day")
    assert _flatten(report) == _expected(ledger, start, end, lambda d: d)


def test_the_rollup_in_utc_puts_the_month_end_charge_in_january(world):
    with override_settings(TIME_ZONE="UTC"):
        revenue_rollup_rebuild()
        report = revenue_report(start=date(2026, 1, 1), end=date(2026, 1, 31), group="month")
    eur = next(r for r in report.totals if r.currency == "EUR")
    assert eur.gross == 12000 + 5000 + 3000


RATES = """Date,USD,JPY,GBP
2026-02-12,1.0500,160.00,0.8400
2026-02-10,1.0400,158.00,0.8300
2026-02-02,1.1000,150.00,0.8500
2026-01-30,1.2000,155.00,0.8600
2026-01-20,1.2500,150.00,0.8700
2026-01-05,1.1000,140.00,0.8800
"""


def _convert(amount: int, rate_from: Decimal, rate_to: Decimal, exp_from: int, exp_to: int) -> int:
    value = Decimal(amount) / (10**exp_from) / rate_from * rate_to * (10**exp_to)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_conversion_uses_each_days_rate_and_is_labelled_separately(world):
    rates_load(RATES)
    with override_settings(TIME_ZONE="Europe/Paris"):
        report = revenue_report(
            start=date(2026, 1, 1), end=date(2026, 2, 28), group="month", convert_to="EUR"
        )
    # The amounts in their own currencies are untouched.
    assert {r.currency for r in report.rows} == {"EUR", "USD", "JPY"}
    assert {r.currency for r in report.converted} == {"EUR"}
    usd = Decimal("1.2500")  # 21 Jan: the rate of 20 Jan (none published on the 21st)
    jpy_10, jpy_12 = Decimal("158.00"), Decimal("160.00")
    jan = next(r for r in report.converted if r.bucket == date(2026, 1, 1))
    assert jan.gross == 12000 + 5000 + _convert(9900, usd, Decimal(1), 2, 2)
    feb = next(r for r in report.converted if r.bucket == date(2026, 2, 1))
    usd_feb1 = Decimal("1.2000")  # 1 Feb: the rate of 30 Jan
    assert feb.gross == 3000 + 700 + _convert(120000, jpy_10, Decimal(1), 0, 2)
    assert feb.refunds == 3500 + _convert(20000, jpy_12, Decimal(1), 0, 2)
    assert feb.disputes_lost == _convert(9900, usd_feb1, Decimal(1), 2, 2)
    total = report.converted_totals[0]
    assert total.net == jan.net + feb.net


def test_conversion_without_a_rate_is_refused_with_the_reason(world):
    with override_settings(TIME_ZONE="Europe/Paris"), pytest.raises(InvalidRequest) as refused:
        revenue_report(start=date(2026, 1, 1), end=date(2026, 2, 28), convert_to="EUR")
    assert "no ECB reference rate for" in refused.value.message
