"""Builders of console and panel test data, the way sync builds it (mirror_upsert, or the
sandbox engine then a backfill). Shared by the panel tests and the browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User

from billingdesk.accounts.defaults import limits_seed
from billingdesk.accounts.models import AgentProfile, RefundLimit
from billingdesk.billing.models import Charge, Customer, Subscription
from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def add_customer(
    account: GatewayAccount,
    gid: str,
    *,
    charges: int = 0,
    currency: str = "EUR",
    last4: str = "4242",
    **fields: str,
) -> Customer:
    """One customer with a card, a subscription and ``charges`` charges (every other one
    partly refunded, one disputed), each with its invoice."""
    objs: list[gw.GatewayObject] = [
        gw.GwCustomer(id=gid, updated=T0, created=T0, **fields),
        gw.GwPaymentMethod(
            id=f"pm_{gid}", updated=T0, customer_id=gid, brand="visa", last4=last4,
            exp_month=12, exp_year=2030,
        ),
        gw.GwSubscription(
            id=f"sub_{gid}", updated=T0, created=T0, customer_id=gid,
            status=gw.SubscriptionStatus.ACTIVE, product="Pro", plan="pro_m", amount=1900,
            currency=currency, current_period_end=T0 + timedelta(days=30),
        ),
    ]  # fmt: skip
    for n in range(charges):
        at = T0 + timedelta(days=n)
        refunded = 500 if n % 2 else 0
        objs += [
            gw.GwInvoice(
                id=f"in_{gid}_{n}", updated=at, created=at, customer_id=gid,
                subscription_id=f"sub_{gid}", status=gw.InvoiceStatus.PAID, currency=currency,
                total=1900, amount_paid=1900, number=f"INV-{gid}-{n}",
            ),
            gw.GwCharge(
                id=f"ch_{gid}_{n}", updated=at, created=at, customer_id=gid, amount=1900,
                currency=currency, amount_captured=1900, amount_refunded=refunded,
                status=(
                    gw.ChargeStatus.PARTIALLY_REFUNDED if refunded else gw.ChargeStatus.CAPTURED
                ),
                payment_method_id=f"pm_{gid}", card_brand="visa", card_last4=last4,
                invoice_id=f"in_{gid}_{n}", order_id=f"ORD-{gid}-{n}", alt_id=f"pi_{gid}_{n}",
            ),
        ]  # fmt: skip
        if refunded:
            objs.append(
                gw.GwRefund(
                    id=f"re_{gid}_{n}", updated=at, created=at, charge_id=f"ch_{gid}_{n}",
                    amount=refunded, currency=currency, status=gw.RefundStatus.SUCCEEDED,
                )
            )  # fmt: skip
        if n == 2:
            objs.append(
                gw.GwDispute(
                    id=f"dp_{gid}_{n}", updated=at, created=at, charge_id=f"ch_{gid}_{n}",
                    amount=1900, currency=currency, status=gw.DisputeStatus.NEEDS_RESPONSE,
                    reason="fraudulent",
                )
            )  # fmt: skip
    mirror_upsert(account=account, objects=objs)
    return Customer.objects.select_related("person").get(account=account, gateway_id=gid)


def agent(role: str = "agent", username: str | None = None, password: str = "pw-not-used") -> User:
    user = User.objects.create_user(
        username or f"{role}-user", password=password, first_name=role.title()
    )
    AgentProfile.objects.create(user=user, role=role)
    return user


@dataclass
class Shop:
    """A sandbox account with one customer: a paid charge, a held one, a subscription."""

    account: GatewayAccount
    customer: Customer
    charge: Charge
    hold: Charge
    subscription: Subscription


def limit_set(
    role: str,
    max_amount: int,
    *,
    kind: str = "refund",
    currency: str = "EUR",
    daily: int | None = None,
) -> None:
    """Set one role's limit (minor units), replacing the seeded one."""
    RefundLimit.objects.update_or_create(
        role=role, kind=kind, currency=currency,
        defaults={"max_amount": max_amount, "daily_max": daily},
    )  # fmt: skip


def build_shop(name: str = "EU store") -> Shop:
    account = GatewayAccount.objects.create(
        kind="sandbox", name=name, default_currency="EUR", dashboard_url="https://sandbox.example/"
    )
    engine = SandboxEngine(account, webhooks=False)
    cus = engine.customer_create(email="ana@example.com", name="Ana Lopez", country="FR")
    engine.card_attach(
        customer_id=cus.object_id, number="4242424242424242", exp_month=12, exp_year=2031
    )
    paid = engine.charge_create(
        customer_id=cus.object_id, amount=5000, currency="EUR", description="Annual plan"
    )
    hold = engine.charge_create(
        customer_id=cus.object_id, amount=8000, currency="EUR", capture=False, description="Deposit"
    )
    sub = engine.subscription_create(
        customer_id=cus.object_id, plan="pro-monthly", product="Pro", amount=4500, currency="EUR"
    )
    account_backfill(account=account)
    limits_seed(["EUR"])  # the demo's limits: agents refund up to 50.00 EUR per charge alone
    return Shop(
        account=account,
        customer=Customer.objects.get(account=account, gateway_id=cus.object_id),
        charge=Charge.objects.get(account=account, gateway_id=paid.object_id),
        hold=Charge.objects.get(account=account, gateway_id=hold.object_id),
        subscription=Subscription.objects.get(account=account, gateway_id=sub.object_id),
    )
