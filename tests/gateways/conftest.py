from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from billingdesk.gateways import interface as gw
from billingdesk.gateways import registry
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.reference import service
from tests.fakes import memory_gateway
from tests.fakes.memory_gateway import MemoryConnector

T0 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def memory_kind() -> Iterator[type[MemoryConnector]]:
    registry.register(MemoryConnector)
    MemoryConnector.page_size = 100
    MemoryConnector.list_calls = 0
    yield MemoryConnector
    service.reset()


@pytest.fixture
def memory_account(db: None, memory_kind: type[MemoryConnector]) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="memory", name="Memory shop", default_currency="EUR")


def build_history(account: GatewayAccount, *, customers: int, charges_each: int) -> None:
    """A realistic little history: customers with cards, charges, some refunds and disputes,
    subscriptions with invoices, a coupon and discounts, tax ids."""
    store: dict[gw.ObjectKind, list[gw.GatewayObject]] = {k: [] for k in gw.ObjectKind}
    store[gw.ObjectKind.COUPON].append(
        gw.GwCoupon(id="co_10", updated=T0, name="10 % off", percent_off_bp=1000)
    )
    for c in range(customers):
        cid = f"cus_{c}"
        at = T0 + timedelta(minutes=c)
        store[gw.ObjectKind.CUSTOMER].append(
            gw.GwCustomer(
                id=cid,
                updated=at,
                created=at,
                email=f"Person.{c}@Example.com",
                name=f"Person {c}",
                phone=f"+3361234{c:04d}",
                country="FR",
            )
        )
        store[gw.ObjectKind.PAYMENT_METHOD].append(
            gw.GwPaymentMethod(
                id=f"pm_{c}",
                updated=at,
                customer_id=cid,
                brand="visa",
                last4=f"{c % 10000:04d}",
                exp_month=12,
                exp_year=2030,
            )
        )
        sub_id = f"sub_{c}"
        store[gw.ObjectKind.SUBSCRIPTION].append(
            gw.GwSubscription(
                id=sub_id,
                updated=at,
                customer_id=cid,
                status=gw.SubscriptionStatus.ACTIVE,
                product="Pro",
                plan="pro_m",
                amount=1900,
                currency="EUR",
                current_period_end=at + timedelta(days=30),
            )
        )
        if c % 7 == 0:
            store[gw.ObjectKind.DISCOUNT].append(
                gw.GwDiscount(
                    id=f"di_{c}",
                    updated=at,
                    coupon_id="co_10",
                    subscription_id=sub_id,
                    customer_id=cid,
                )
            )
        if c % 5 == 0:
            store[gw.ObjectKind.TAX_ID].append(
                gw.GwTaxId(
                    id=f"txi_{c}",
                    updated=at,
                    customer_id=cid,
                    tax_type="eu_vat",
                    value="FR40303265045",
                    country="FR",
                )
            )
        for n in range(charges_each):
            ch = f"ch_{c}_{n}"
            when = at + timedelta(days=n)
            refunded = 500 if n % 4 == 1 else 0
            store[gw.ObjectKind.INVOICE].append(
                gw.GwInvoice(
                    id=f"in_{c}_{n}",
                    updated=when,
                    created=when,
                    customer_id=cid,
                    subscription_id=sub_id,
                    status=gw.InvoiceStatus.PAID,
                    currency="EUR",
                    total=1900,
                    amount_paid=1900,
                    number=f"INV-{c}-{n}",
                )
            )
            store[gw.ObjectKind.CHARGE].append(
                gw.GwCharge(
                    id=ch,
                    updated=when,
                    created=when,
                    customer_id=cid,
                    amount=1900,
                    currency="EUR",
                    amount_captured=1900,
                    amount_refunded=refunded,
                    status=(
                        gw.ChargeStatus.PARTIALLY_REFUNDED if refunded else gw.ChargeStatus.CAPTURED
                    ),
                    payment_method_id=f"pm_{c}",
                    card_brand="visa",
                    card_last4=f"{c % 10000:04d}",
                    invoice_id=f"in_{c}_{n}",
                    order_id=f"ORD-{c}-{n}",
                    alt_id=f"pi_{c}_{n}",
                )
            )
            if refunded:
                store[gw.ObjectKind.REFUND].append(
                    gw.GwRefund(
                        id=f"re_{c}_{n}",
                        updated=when,
                        charge_id=ch,
                        amount=refunded,
                        currency="EUR",
                        status=gw.RefundStatus.SUCCEEDED,
                        reason="requested_by_customer",
                    )
                )
            if n % 9 == 2:
                store[gw.ObjectKind.DISPUTE].append(
                    gw.GwDispute(
                        id=f"dp_{c}_{n}",
                        updated=when,
                        charge_id=ch,
                        amount=1900,
                        currency="EUR",
                        status=gw.DisputeStatus.NEEDS_RESPONSE,
                        reason="fraudulent",
                    )
                )
    memory_gateway.STORE[str(account.pk)] = store
