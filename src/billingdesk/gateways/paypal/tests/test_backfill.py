"""Backfill of a PayPal account from Transaction Search (31-day windows), subscriptions and
disputes, against the fake PayPal API over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake, parse_time

from billingdesk.billing.models import Charge, Customer, Dispute, Refund, Subscription
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.paypal.connector import PayPalConnector
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start

from .conftest import make_account

pytestmark = pytest.mark.django_db


def _search_windows(fake: PayPalFake) -> list[tuple[datetime, datetime]]:
    """The (start, end) of every Transaction Search call the connector made."""
    return [(parse_time(s), parse_time(e)) for s, e in fake.search_windows]


def test_history_is_read_in_windows_of_at_most_31_days_over_three_years(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for days in (400, 100, 40):
        fake._clock = now - timedelta(days=days)
        fake.add_payment(merchant, email=f"d{days}@example.com", amount="5.00")
    fake._clock = now - timedelta(hours=1)
    fake.add_payment(merchant, email="recent@example.com", amount="7.50")

    run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    emails = set(Customer.objects.filter(account=account).values_list("email", flat=True))
    assert emails == {
        "d400@example.com",
        "d100@example.com",
        "d40@example.com",
        "recent@example.com",
    }
    windows = _search_windows(fake)
    assert all(end - start <= timedelta(days=31) for start, end in windows)
    # Oldest first, each window after the last, back to three years before the run.
    assert windows == sorted(windows)
    assert all(b[0] > a[1] for a, b in pairwise(windows))
    assert now - windows[0][0] >= timedelta(days=3 * 365 - 1)
    assert len(windows) == 36  # 1095 days / 31: calls grow with windows and pages only


def test_payer_email_and_id_reach_the_mirror_and_match_a_person_elsewhere(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant
) -> None:
    other = GatewayAccount.objects.create(kind="sandbox", name="Other shop")
    SandboxEngine(other).customer_create(email="Grace@Example.com")
    capture = fake.add_payment(merchant, email="grace@example.com", amount="12.34")

    account_backfill(account=other)
    account_backfill(account=account)

    payer_id = fake.merchants["shop"].captures[capture["id"]]["payer"]["payer_id"]
    customer = Customer.objects.get(account=account, gateway_id=payer_id)
    assert (customer.email, customer.name) == ("grace@example.com", "Pat Buyer")
    assert customer.person_id is not None
    assert customer.person_id == Customer.objects.get(account=other).person_id
    charge = Charge.objects.get(account=account, gateway_id=capture["id"])
    assert (charge.amount, charge.currency, charge.status) == (1234, "EUR", "captured")
    assert charge.customer_id == customer.pk


def test_a_refund_on_a_later_page_gives_its_capture_the_exact_refunded_amount(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PayPalConnector, "page_size", 2)
    first = fake.add_payment(merchant, email="a@example.com", amount="50.00")
    fake.add_refund(merchant, first, "10.00")  # same page as its capture
    fake.add_payment(merchant, email="b@example.com", amount="20.00")
    fake.add_refund(merchant, first, "5.00")  # next page: the capture's order is read back

    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=first["id"])
    assert (charge.amount_refunded, charge.status) == (1500, "partially_refunded")
    refunds = Refund.objects.filter(account=account, charge=charge)
    assert sorted(refunds.values_list("amount", flat=True)) == [500, 1000]
    assert fake.calls(f"/v2/checkout/orders/{first['order_id']}") == 1


def test_a_full_refund_and_zero_decimal_currencies(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant
) -> None:
    yen = fake.add_payment(merchant, email="jp@example.com", amount="1500", currency="JPY")
    fake.add_refund(merchant, yen)

    account_backfill(account=account)

    charge = Charge.objects.get(account=account, gateway_id=yen["id"])
    assert (charge.amount, charge.currency) == (1500, "JPY")  # JPY has no minor unit
    assert (charge.amount_refunded, charge.status) == (1500, "refunded")


def test_subscriptions_named_by_their_payments_are_read_with_their_plan(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant
) -> None:
    plan = fake.add_plan(merchant, name="Gold", price="29.95", interval="YEAR")
    sub = fake.add_subscription(merchant, plan, email="sub@example.com", payments=2)

    account_backfill(account=account)

    mirrored = Subscription.objects.get(account=account, gateway_id=sub["id"])
    assert (mirrored.status, mirrored.amount, mirrored.currency) == ("active", 2995, "EUR")
    assert (mirrored.interval, mirrored.product) == ("year", "Gold")
    assert mirrored.customer is not None and mirrored.customer.email == "sub@example.com"
    assert Charge.objects.filter(account=account, customer=mirrored.customer).count() == 2
    assert fake.calls(f"/v1/billing/subscriptions/{sub['id']}") == 1
    assert fake.calls(f"/v1/billing/plans/{plan['id']}") == 1


def test_disputes_are_paged_and_linked_to_the_disputed_payment(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PayPalConnector, "dispute_page_size", 2)
    captures = [fake.add_payment(merchant, email=f"d{n}@example.com") for n in range(3)]
    disputes = [fake.add_dispute(merchant, c) for c in captures]

    account_backfill(account=account)

    for capture, dispute in zip(captures, disputes, strict=True):
        mirrored = Dispute.objects.get(account=account, gateway_id=dispute["dispute_id"])
        assert mirrored.charge is not None and mirrored.charge.gateway_id == capture["id"]
        assert (mirrored.status, mirrored.amount) == ("needs_response", 1000)
    assert fake.calls("/v1/customer/disputes") == 2 + 3  # two pages, each dispute read once


def test_an_interrupted_backfill_resumes_at_its_window_and_page(
    fake: PayPalFake, merchant: Merchant, account: GatewayAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PayPalConnector, "page_size", 2)
    for n in range(5):
        fake.add_payment(merchant, email=f"p{n}@example.com")
    run = sync_run_start(account=account)
    sync_run_execute(run=run, max_pages=1)
    run.refresh_from_db()
    assert '"page": 2' in run.cursor
    fake.search_windows.clear()

    account_backfill(account=account)

    assert Customer.objects.filter(account=account).count() == 5
    # It went on from page 2 of the window holding the payments, not from the start.
    assert len(fake.search_windows) == 2


def test_two_accounts_do_not_share_tokens(fake: PayPalFake, db: None) -> None:
    one, two = make_account(fake, client_id="one"), make_account(fake, client_id="two")
    fake.add_payment(fake.merchants["one"], email="one@example.com")
    fake.add_payment(fake.merchants["two"], email="two@example.com")

    account_backfill(account=one)
    account_backfill(account=two)

    assert list(Customer.objects.filter(account=one).values_list("email", flat=True)) == [
        "one@example.com"
    ]
    assert list(Customer.objects.filter(account=two).values_list("email", flat=True)) == [
        "two@example.com"
    ]
    assert fake.calls("/v1/oauth2/token") == 2
