"""Backfill through the real sync engine: every kind, sorted by updated_at with begin_time,
resumed where it stopped (ties in one second included), refunded amounts exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes.recurly_api import RecurlyFake, Site

from billingdesk.billing.models import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Invoice,
    PaymentMethod,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.recurly import connector as connector_module
from billingdesk.gateways.recurly.connector import RecurlyConnector
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _history(fake: RecurlyFake, site: Site) -> dict[str, str]:
    fake.add_plan(site, "pro", amount="30.00", name="Pro", add_ons={"seat": "5.00"})
    fake.add_plan(site, "daily", amount="1.00", interval_unit="days", interval_length=7)
    fake.add_coupon(site, "welcome", percent=15)
    fake.add_coupon(site, "tenoff", amount="10.00", duration="single_use")
    alice = fake.add_account(
        site, email="alice@example.com", first_name="Alice", last_name="Ng", company="Ng Ltd",
        country="DE", vat_number="DE123456789",
    )  # fmt: skip
    fake.add_card(site, alice["id"], last4="4242", brand="Visa")
    sub = fake.add_subscription(
        site, alice["id"], "pro", add_ons=[{"code": "seat", "quantity": 3}],
        coupon_codes=["welcome"],
    )  # fmt: skip
    paid = fake.purchase(site, alice["id"], "12.50", description="Setup")
    fake._refund(site, paid, {"type": "amount", "amount": "2.50"})
    bob = fake.add_account(site, email="bob@example.com", company="Bob Inc")
    return {"alice": alice["id"], "bob": bob["id"], "sub": sub["id"], "paid": paid["id"]}


def test_a_backfill_mirrors_every_kind(
    fake: RecurlyFake, site: Site, account: GatewayAccount
) -> None:
    ids = _history(fake, site)
    run = account_backfill(account=account)
    assert run.status == SyncRun.Status.DONE, run.error

    alice = Customer.objects.get(account=account, gateway_id=ids["alice"])
    assert (alice.email, alice.name, alice.country) == ("alice@example.com", "Alice Ng", "DE")
    card = PaymentMethod.objects.get(account=account, customer=alice)
    assert (card.brand, card.last4) == ("visa", "4242")
    assert TaxId.objects.get(account=account, customer=alice).value == "DE123456789"
    assert Customer.objects.get(account=account, gateway_id=ids["bob"]).name == "Bob Inc"

    sub = Subscription.objects.get(account=account, gateway_id=ids["sub"])
    assert sub.plan == "pro" and sub.status == "active"
    assert sub.amount == 3000 + 3 * 500 and sub.product == "Pro + Seat x3"
    assert Discount.objects.get(account=account, subscription=sub).coupon.gateway_id == "welcome"
    assert {c.gateway_id: (c.percent_off_bp, c.amount_off) for c in Coupon.objects.all()} == {
        "welcome": (1500, None),
        "tenoff": (None, 1000),
    }

    charge_invoice = Invoice.objects.get(account=account, gateway_id=ids["paid"])
    assert charge_invoice.total == 1250 and charge_invoice.status == "paid"
    credit = Invoice.objects.get(account=account, number__startswith="CR-")
    assert credit.total == -250 and credit.status == "paid"

    purchase = Charge.objects.get(account=account, invoice=charge_invoice)
    assert (purchase.amount, purchase.amount_refunded) == (1250, 250)
    assert purchase.status == "partially_refunded" and purchase.card_last4 == "4242"
    refund = Refund.objects.get(account=account)
    assert refund.charge_id == purchase.pk and refund.amount == 250
    # The subscription's first invoice was paid too: two charges, one refund.
    assert Charge.objects.filter(account=account).count() == 2


def test_listings_are_sorted_by_updated_at_ascending_with_begin_time(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RecurlyConnector, "page_size", 2)
    for n in range(5):
        fake.add_account(site, email=f"p{n}@example.com", at=T0 + timedelta(minutes=n))
    first = connector.list_page(gw.ObjectKind.CUSTOMER, None)
    second = connector.list_page(gw.ObjectKind.CUSTOMER, first.next_cursor)
    emails = [o.email for o in first.objects + second.objects if isinstance(o, gw.GwCustomer)]
    assert emails == ["p0@example.com", "p1@example.com", "p2@example.com", "p3@example.com"]
    assert ("GET", "/accounts") in fake.requests
    # An account changed meanwhile moves to the end: the resumed run reads it again.
    first_id = next(iter(site.accounts))
    fake.set_account(site, first_id, at=T0 + timedelta(hours=1), email="new@x.org")
    third = connector.list_page(gw.ObjectKind.CUSTOMER, second.next_cursor)
    assert [o.email for o in third.objects if isinstance(o, gw.GwCustomer)] == [
        "p4@example.com",
        "new@x.org",
    ]
    assert third.next_cursor is None


def test_a_run_interrupted_within_one_second_resumes_without_loss_or_repeat(
    fake: RecurlyFake, site: Site, account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RecurlyConnector, "page_size", 2)
    fake.clock = T0  # every account changes in the same second
    for n in range(7):
        fake.add_account(site, email=f"tie{n}@example.com")
    run = sync_run_start(account=account)
    sync_run_execute(run=run, max_pages=2)
    assert Customer.objects.filter(account=account).count() == 4

    resumed = account_backfill(account=account)
    assert resumed.pk == run.pk and resumed.status == SyncRun.Status.DONE
    assert Customer.objects.filter(account=account).count() == 7
    # Four pages of customers (2+2+2+1), then one for each other kind: no page read twice.
    assert resumed.pages == 4 + len(RecurlyConnector.backfill_kinds) - 1


def test_more_ties_than_a_page_can_skip_follow_recurlys_next_link(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RecurlyConnector, "page_size", 2)
    monkeypatch.setattr(connector_module.client, "MAX_LIMIT", 5)
    fake.clock = T0
    for n in range(9):
        fake.add_account(site, email=f"same{n}@example.com")
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = connector.list_page(gw.ObjectKind.CUSTOMER, cursor)
        seen += [o.email for o in page.objects if isinstance(o, gw.GwCustomer)]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"same{n}@example.com" for n in range(9))
    assert len(seen) == 9  # none twice


def test_a_bad_cursor_is_refused(connector: RecurlyConnector) -> None:
    from billingdesk.core.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="not a Recurly backfill cursor"):
        connector.list_page(gw.ObjectKind.CUSTOMER, "garbage")


def test_the_total_is_estimated_with_a_head_request(
    fake: RecurlyFake, site: Site, connector: RecurlyConnector
) -> None:
    for n in range(3):
        fake.add_account(site, email=f"c{n}@example.com")
    assert connector.estimate_total(gw.ObjectKind.CUSTOMER) == 3
    assert ("HEAD", "/accounts") in fake.requests
    assert connector.estimate_total(gw.ObjectKind.DISPUTE) is None


@pytest.mark.parametrize("window_pages", [1, 0], ids=["one window listing", "per account"])
def test_refunded_amounts_are_exact_by_either_listing(
    fake: RecurlyFake,
    site: Site,
    connector: RecurlyConnector,
    monkeypatch: pytest.MonkeyPatch,
    window_pages: int,
) -> None:
    purchases = []
    for n in range(3):
        person = fake.add_account(site, email=f"r{n}@example.com")
        fake.add_card(site, person["id"])
        invoice = fake.purchase(site, person["id"], "20.00")
        fake._refund(site, invoice, {"type": "amount", "amount": "1.50"})
        fake._refund(site, invoice, {"type": "amount", "amount": str(n + 1)})
        purchases.append(invoice["transactions"][0])
    if not window_pages:  # a window too large to list: one listing per account instead
        monkeypatch.setattr(connector.api, "count", lambda *a, **k: 10**6)
    page = connector.list_page(gw.ObjectKind.CHARGE, None)
    charges = {o.id: o.amount_refunded for o in page.objects if isinstance(o, gw.GwCharge)}
    assert charges == {purchases[n]: 150 + (n + 1) * 100 for n in range(3)}
    per_account = [p for m, p in fake.requests if p.startswith("/accounts/")]
    assert len(per_account) == (0 if window_pages else 3)
