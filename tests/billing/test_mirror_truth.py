"""What ``mirror_upsert`` guarantees for every connector (issue 11), with the interface's own
dataclasses: same-version ties ordered by progress in either arrival order, an unchanged
object re-sent with a newer version writing and signalling nothing, disputes holding the
charge, the card and the invoice of a charge joined from the mirror, one default card per
customer. (Candidates for the connector contract suite: each is gateway-neutral.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billingdesk.billing.models import Charge, Invoice, PaymentMethod
from billingdesk.billing.services import mirror_upsert
from billingdesk.billing.signals import mirror_changed
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount

T = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def account(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name="Neutral")


def _invoice(status: gw.InvoiceStatus, paid: int = 0, **extra: Any) -> gw.GwInvoice:
    return gw.GwInvoice(
        id="in_1",
        updated=T,
        customer_id="cus_1",
        status=status,
        currency="EUR",
        total=1500,
        amount_paid=paid,
        **extra,
    )


def _charge(status: gw.ChargeStatus, refunded: int = 0, **extra: Any) -> gw.GwCharge:
    return gw.GwCharge(
        id="ch_1",
        updated=T,
        customer_id="cus_1",
        amount=3000,
        currency="EUR",
        status=status,
        amount_captured=3000,
        amount_refunded=refunded,
        **extra,
    )


@pytest.mark.parametrize("batch", [False, True], ids=["two-writes", "one-batch"])
@pytest.mark.parametrize("paid_first", [True, False], ids=["paid-first", "open-first"])
def test_invoice_tie_keeps_paid(account: GatewayAccount, paid_first: bool, batch: bool) -> None:
    paid, opened = _invoice(gw.InvoiceStatus.PAID, 1500), _invoice(gw.InvoiceStatus.OPEN)
    order = [paid, opened] if paid_first else [opened, paid]
    if batch:
        mirror_upsert(account=account, objects=order)
    else:
        for obj in order:
            mirror_upsert(account=account, objects=[obj])
    row = Invoice.objects.get(account=account)
    assert (row.status, row.amount_paid) == ("paid", 1500)


@pytest.mark.parametrize("refunded_first", [True, False])
def test_charge_tie_keeps_refunded(account: GatewayAccount, refunded_first: bool) -> None:
    refunded = _charge(gw.ChargeStatus.REFUNDED, 3000)
    captured = _charge(gw.ChargeStatus.CAPTURED)
    for obj in [refunded, captured] if refunded_first else [captured, refunded]:
        mirror_upsert(account=account, objects=[obj])
    row = Charge.objects.get(account=account)
    assert (row.status, row.amount_refunded) == ("refunded", 3000)


def _subscription(plan: str, status: gw.SubscriptionStatus) -> gw.GwSubscription:
    return gw.GwSubscription(
        id="sub_1", updated=T, customer_id="cus_1", status=status, plan=plan, currency="EUR"
    )


@pytest.mark.parametrize("batch", [False, True], ids=["two-writes", "one-batch"])
def test_a_tie_with_no_order_is_reported_for_a_re_read(
    account: GatewayAccount, batch: bool
) -> None:
    """Two different states of one version with no forward order (a plan change, a status
    that goes back and forth) cannot be ordered here: the write reports them as ties, which
    webhook processing settles by reading the gateway (tests/contract: the settle case)."""
    basic = _subscription("basic", gw.SubscriptionStatus.ACTIVE)
    pro = _subscription("pro", gw.SubscriptionStatus.PAST_DUE)
    if batch:
        ties = mirror_upsert(account=account, objects=[basic, pro]).ties
    else:
        assert mirror_upsert(account=account, objects=[basic]).ties == set()
        ties = mirror_upsert(account=account, objects=[pro]).ties
    assert ties == {(gw.ObjectKind.SUBSCRIPTION, "sub_1")}
    # The same state again, or an ordered tie (paid over open), is no tie to settle.
    assert mirror_upsert(account=account, objects=[pro]).ties == set()
    paid, opened = _invoice(gw.InvoiceStatus.PAID, 1500), _invoice(gw.InvoiceStatus.OPEN)
    assert mirror_upsert(account=account, objects=[paid, opened]).ties == set()
    assert mirror_upsert(account=account, objects=[opened]).ties == set()


def test_a_newer_version_still_wins_over_progress(account: GatewayAccount) -> None:
    """Only ties are ordered by progress: a newer version is the truth (a reopened state)."""
    mirror_upsert(account=account, objects=[_invoice(gw.InvoiceStatus.PAID, 1500)])
    later = gw.GwInvoice(
        id="in_1",
        updated=T + timedelta(seconds=1),
        customer_id="cus_1",
        status=gw.InvoiceStatus.VOID,
        currency="EUR",
    )
    mirror_upsert(account=account, objects=[later])
    assert Invoice.objects.get(account=account).status == "void"


@pytest.fixture
def signals() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    mirror_changed.connect(record, dispatch_uid="test-neutral")
    yield seen
    mirror_changed.disconnect(dispatch_uid="test-neutral")


def test_same_data_with_a_newer_version_writes_and_signals_nothing(
    account: GatewayAccount, signals: list[dict[str, Any]]
) -> None:
    mirror_upsert(account=account, objects=[_charge(gw.ChargeStatus.CAPTURED)])
    before = Charge.objects.get(account=account)
    signals.clear()

    again = replace_version(_charge(gw.ChargeStatus.CAPTURED), T + timedelta(hours=1))
    result = mirror_upsert(account=account, objects=[again])

    assert (result.updated, result.unchanged) == (0, 1)
    assert signals == []
    after = Charge.objects.get(account=account)
    assert (after.synced_at, after.gateway_updated_at) == (
        before.synced_at,
        before.gateway_updated_at,
    )
    # A real change still writes, with its version.
    refunded = replace_version(
        _charge(gw.ChargeStatus.PARTIALLY_REFUNDED, 500), T + timedelta(hours=2)
    )
    assert mirror_upsert(account=account, objects=[refunded]).updated == 1
    assert Charge.objects.get(account=account).gateway_updated_at == T + timedelta(hours=2)
    assert len(signals) == 1


def replace_version(obj: gw.GatewayObject, updated: datetime) -> gw.GatewayObject:
    from dataclasses import replace

    return replace(obj, updated=updated)


@pytest.mark.parametrize("dispute_first", [True, False])
def test_an_open_dispute_holds_its_charge(account: GatewayAccount, dispute_first: bool) -> None:
    dispute = gw.GwDispute(
        id="dp_1",
        updated=T,
        charge_id="ch_1",
        amount=3000,
        currency="EUR",
        status=gw.DisputeStatus.NEEDS_RESPONSE,
    )
    charge = _charge(gw.ChargeStatus.CAPTURED)
    for obj in [dispute, charge] if dispute_first else [charge, dispute]:
        mirror_upsert(account=account, objects=[obj])
    assert Charge.objects.get(account=account).status == "disputed"


def test_a_won_dispute_does_not_hold_the_charge(account: GatewayAccount) -> None:
    mirror_upsert(account=account, objects=[_charge(gw.ChargeStatus.CAPTURED)])
    won = gw.GwDispute(
        id="dp_1",
        updated=T,
        charge_id="ch_1",
        amount=3000,
        currency="EUR",
        status=gw.DisputeStatus.WON,
    )
    mirror_upsert(account=account, objects=[won])
    assert Charge.objects.get(account=account).status == "captured"


def _card(pm_id: str, last4: str, *, default: bool) -> gw.GwPaymentMethod:
    return gw.GwPaymentMethod(
        id=pm_id, updated=T, customer_id="cus_1", brand="visa", last4=last4, is_default=default
    )


@pytest.mark.parametrize("card_first", [True, False])
def test_a_charge_shows_the_card_of_its_payment_method(
    account: GatewayAccount, card_first: bool
) -> None:
    charge = _charge(gw.ChargeStatus.CAPTURED, payment_method_id="pm_1")
    card = _card("pm_1", "4242", default=True)
    for obj in [card, charge] if card_first else [charge, card]:
        mirror_upsert(account=account, objects=[obj])
    row = Charge.objects.get(account=account)
    assert (row.card_brand, row.card_last4) == ("visa", "4242")
    assert Charge.objects.filter(card_last4="4242").count() == 1  # findable by its card


@pytest.mark.parametrize("invoice_first", [True, False])
def test_an_invoice_naming_its_charge_links_it(
    account: GatewayAccount, invoice_first: bool
) -> None:
    invoice = _invoice(gw.InvoiceStatus.PAID, 1500, charge_id="pi_1")
    charge = _charge(gw.ChargeStatus.CAPTURED, alt_id="pi_1")
    for obj in [invoice, charge] if invoice_first else [charge, invoice]:
        mirror_upsert(account=account, objects=[obj])
    assert Charge.objects.get(account=account).invoice == Invoice.objects.get(account=account)


def test_one_default_card_per_customer(account: GatewayAccount) -> None:
    mirror_upsert(
        account=account,
        objects=[_card("pm_1", "4242", default=True), _card("pm_2", "4444", default=False)],
    )
    newer = replace_version(_card("pm_2", "4444", default=True), T + timedelta(seconds=5))
    mirror_upsert(account=account, objects=[newer])
    defaults = PaymentMethod.objects.filter(account=account, is_default=True)
    assert list(defaults.values_list("gateway_id", flat=True)) == ["pm_2"]
