"""The sandbox connector: listing pages, backfill into the mirror, idempotent actions."""

from __future__ import annotations

import pytest

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import record_failure
from billingdesk.billing.models import (
    Charge,
    Customer,
    Dispute,
    Invoice,
    PaymentMethod,
    Refund,
    Subscription,
)
from billingdesk.core.errors import CardDeclined, InvalidRequest, NotAllowed, NotFound
from billingdesk.gateways.interface import (
    Capability,
    ChargeStatus,
    GwCharge,
    GwRefund,
    ObjectKind,
    SubscriptionStatus,
)
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxObject
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start

pytestmark = pytest.mark.django_db


def test_registered_with_every_capability_but_dispute_evidence(account: GatewayAccount) -> None:
    connector = connector_for(account)
    assert isinstance(connector, SandboxConnector)
    # The sandbox's disputes have no evidence to answer with (yet), and a termination makes
    # no refund (Recurly's terminate with refund): everything else.
    assert {c for c in Capability if not connector.supports(c)} == {
        Capability.DISPUTE_EVIDENCE,
        Capability.TERMINATE_WITH_REFUND,
    }
    connector.check_credentials()


def test_list_page_walks_objects_in_sequence(
    engine: SandboxEngine, account: GatewayAccount
) -> None:
    ids = [engine.customer_create(email=f"p{i}@example.com").object_id for i in range(5)]
    connector = SandboxConnector(account)
    connector.page_size = 2  # type: ignore[misc]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = connector.list_page(ObjectKind.CUSTOMER, cursor)
        pages += 1
        seen += [obj.id for obj in page.objects]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == ids
    assert pages == 3
    assert connector.estimate_total(ObjectKind.CUSTOMER) == 5
    assert connector.list_page(ObjectKind.CHARGE, None).objects == []
    with pytest.raises(InvalidRequest):
        connector.list_page(ObjectKind.CUSTOMER, "not-a-cursor")


def test_backfill_mirrors_objects_and_fields(account: GatewayAccount) -> None:
    engine = SandboxEngine(account, bulk=True)
    customer = engine.customer_create(
        email="Ana.Lima@Example.com", name="Ana Lima", phone="+33 6 12 34 56 78", country="FR"
    )
    card = engine.card_attach(
        customer_id=customer.object_id, number="5555555555554444", exp_month=7, exp_year=2041
    )
    charges = [
        engine.charge_create(
            customer_id=customer.object_id,
            amount=1000 + i,
            currency="EUR",
            product="Beans",
            order_id=f"EU-{i}",
        )
        for i in range(130)  # more than one page of 100
    ]
    engine.refund_create(charge_id=charges[0].object_id, amount=400, reason="damaged")
    disputed = engine.charge_create(
        customer_id=customer.object_id, card_number="4000000000000259", amount=7000, currency="EUR"
    )
    subscription = engine.subscription_create(
        customer_id=customer.object_id,
        plan="pro-monthly",
        product="Pro",
        amount=4500,
        currency="EUR",
    )
    engine.flush()

    run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    assert run.pages > len(ObjectKind)  # charges took two pages
    assert Customer.objects.filter(account=account).count() == 1
    assert Charge.objects.filter(account=account).count() == 130 + 1 + 1  # + dispute + subscription
    mirrored = Customer.objects.get(gateway_id=customer.object_id)
    assert mirrored.email_normalized == "ana.lima@example.com"
    assert mirrored.phone_normalized == "+33612345678"
    assert mirrored.person is not None
    pm = PaymentMethod.objects.get(gateway_id=card.object_id)
    assert (pm.brand, pm.last4, pm.exp_month, pm.exp_year, pm.is_default) == (
        "mastercard",
        "4444",
        7,
        2041,
        True,
    )
    first = Charge.objects.get(gateway_id=charges[0].object_id)
    assert first.status == ChargeStatus.PARTIALLY_REFUNDED
    assert (first.amount, first.currency, first.amount_refunded, first.refundable) == (
        1000,
        "EUR",
        400,
        600,
    )
    assert (first.product, first.order_id, first.card_last4) == ("Beans", "EU-0", "4444")
    assert first.customer == mirrored and first.payment_method == pm
    assert first.alt_id.startswith("pi_")
    assert first.gateway_updated_at == SandboxObject.objects.get(object_id=first.gateway_id).updated
    refund = Refund.objects.get(account=account)
    assert refund.charge == first and refund.amount == 400 and refund.reason == "damaged"
    assert Charge.objects.get(gateway_id=disputed.object_id).status == ChargeStatus.DISPUTED
    assert Dispute.objects.get(account=account).charge.gateway_id == disputed.object_id
    mirrored_sub = Subscription.objects.get(gateway_id=subscription.object_id)
    assert mirrored_sub.status == SubscriptionStatus.ACTIVE and mirrored_sub.amount == 4500
    invoice = Invoice.objects.get(account=account)
    assert invoice.subscription == mirrored_sub and invoice.status == "paid"
    assert Charge.objects.get(invoice=invoice).amount == 4500


def test_backfill_matches_persons_across_two_accounts(db: None) -> None:
    eu = GatewayAccount.objects.create(kind="sandbox", name="EU", default_currency="EUR")
    us = GatewayAccount.objects.create(kind="sandbox", name="US", default_currency="USD")
    e1, e2 = SandboxEngine(eu), SandboxEngine(us)
    e1.customer_create(email="marie.curie@example.fr", phone="+33 6 11 22 33 44", country="FR")
    e2.customer_create(email="MARIE.CURIE+shop@Example.FR", country="FR")
    e1.customer_create(email="leon@example.de", phone="+49 151 23456789", country="DE")
    e2.customer_create(email="leon.work@corp.example", phone="0151 23456789", country="DE")
    e2.customer_create(email="someone.else@example.com")

    account_backfill(account=eu)
    account_backfill(account=us)

    marie = Customer.objects.filter(email_normalized="marie.curie@example.fr")
    assert marie.count() == 2 and len({c.person_id for c in marie}) == 1
    assert marie.get(account=us).match_method == "email"
    leon = Customer.objects.filter(phone_normalized="+4915123456789")
    assert leon.count() == 2 and len({c.person_id for c in leon}) == 1
    assert leon.get(account=us).match_method == "phone"
    assert Customer.objects.get(email="someone.else@example.com").match_method == "new"


def test_refund_is_idempotent(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    connector = SandboxConnector(account)

    first = connector.refund_create(
        charge_id=charge.object_id, amount=300, reason="x", idempotency_key="k1"
    )
    again = connector.refund_create(
        charge_id=charge.object_id, amount=300, reason="x", idempotency_key="k1"
    )

    assert SandboxObject.objects.filter(kind="refund").count() == 1
    assert [type(o) for o in first.objects] == [GwRefund, GwCharge]
    assert again == first
    charge.refresh_from_db()
    assert charge.data["amount_refunded"] == 300
    with pytest.raises(InvalidRequest):
        connector.refund_create(
            charge_id=charge.object_id, amount=200, reason="x", idempotency_key="k1"
        )
    with pytest.raises(InvalidRequest):
        connector.charge_void(charge_id=charge.object_id, idempotency_key="k1")
    connector.refund_create(
        charge_id=charge.object_id, amount=200, reason="x", idempotency_key="k2"
    )
    charge.refresh_from_db()
    assert charge.data["amount_refunded"] == 500


def test_decline_is_replayed_without_charging_again(
    account: GatewayAccount, engine: SandboxEngine
) -> None:
    customer = engine.customer_create(email="fail@example.com")
    engine.card_attach(
        customer_id=customer.object_id, number="4000000000000341", exp_month=1, exp_year=2040
    )
    connector = SandboxConnector(account)

    for _ in range(2):
        with pytest.raises(CardDeclined) as caught:
            connector.charge_authorize(
                customer_id=customer.object_id,
                amount=500,
                currency="EUR",
                description="hold",
                idempotency_key="auth-1",
            )
        assert caught.value.decline_code == "generic_decline"

    assert SandboxObject.objects.filter(kind="charge").count() == 1


def test_failed_action_does_not_burn_the_key(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    connector = SandboxConnector(account)
    with pytest.raises(NotFound):
        connector.refund_create(charge_id="ch_nope", amount=None, reason="", idempotency_key="k")
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    result = connector.refund_create(
        charge_id=charge.object_id, amount=None, reason="", idempotency_key="k-2"
    )
    assert result.objects[0].amount == 1000  # type: ignore[attr-defined]


def test_authorize_capture_void_through_the_connector(
    account: GatewayAccount, customer: SandboxObject
) -> None:
    connector = SandboxConnector(account)
    held = connector.charge_authorize(
        customer_id=customer.object_id,
        amount=8000,
        currency="EUR",
        description="deposit",
        idempotency_key="a1",
    )
    [charge] = held.objects
    assert isinstance(charge, GwCharge) and charge.status == ChargeStatus.AUTHORIZED

    captured = connector.charge_capture(charge_id=charge.id, amount=5000, idempotency_key="c1")
    assert captured.objects[0].status == ChargeStatus.CAPTURED  # type: ignore[attr-defined]
    assert captured.objects[0].amount_captured == 5000  # type: ignore[attr-defined]

    other = connector.charge_authorize(
        customer_id=customer.object_id,
        amount=100,
        currency="EUR",
        description="",
        idempotency_key="a2",
    ).objects[0]
    voided = connector.charge_void(charge_id=other.id, idempotency_key="v1")
    assert voided.objects[0].status == ChargeStatus.VOIDED  # type: ignore[attr-defined]


def test_subscription_actions_through_the_connector(
    account: GatewayAccount, customer: SandboxObject
) -> None:
    connector = SandboxConnector(account)
    created = connector.subscription_create(
        customer_id=customer.object_id, plan="starter-monthly", idempotency_key="s1"
    )
    [subscription] = [o for o in created.objects if o.kind == ObjectKind.SUBSCRIPTION]
    assert subscription.status == SubscriptionStatus.ACTIVE  # type: ignore[attr-defined]
    assert subscription.amount == 1700 and subscription.currency == "EUR"  # type: ignore[attr-defined]
    assert {o.kind for o in created.objects} >= {ObjectKind.INVOICE, ObjectKind.CHARGE}

    ending = connector.subscription_cancel(
        subscription_id=subscription.id, at_period_end=True, idempotency_key="s2"
    )
    assert ending.objects[0].cancel_at_period_end is True  # type: ignore[attr-defined]
    with pytest.raises(InvalidRequest):
        connector.subscription_create(
            customer_id=customer.object_id, plan="gold", idempotency_key="s3"
        )


def test_coupon_tax_id_and_invoice_send_through_the_connector(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    connector = SandboxConnector(account)
    coupon = engine.coupon_create(name="TEN", percent_off_bp=1000)
    applied = connector.coupon_apply(
        coupon_id=coupon.object_id, customer_id=customer.object_id, idempotency_key="c"
    )
    assert applied.objects[0].kind == ObjectKind.DISCOUNT
    added = connector.tax_id_add(
        customer_id=customer.object_id, tax_type="eu_vat", value="DE123456789", idempotency_key="t"
    )
    assert added.objects[0].value == "DE123456789"  # type: ignore[attr-defined]
    request = connector.payment_request_create(
        customer_id=customer.object_id,
        amount=2000,
        currency="EUR",
        description="Balance",
        idempotency_key="p",
    )
    invoice = request.objects[-1]
    sent = connector.invoice_send(invoice_id=invoice.id, idempotency_key="i")
    assert sent.objects[0].raw["sent_count"] == 1


def test_a_refusal_on_stale_state_refreshes_the_mirrored_charge(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    """Issue 11: the sandbox refused a refund the mirror still offered (the charge was
    disputed and no event reached the mirror); the mirror's charge is brought up to date."""
    charge = engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    account_backfill(account=account)
    assert Charge.objects.get(gateway_id=charge.object_id).status == ChargeStatus.CAPTURED
    engine.dispute_create(charge_id=charge.object_id)

    with pytest.raises(NotAllowed) as refused:
        SandboxConnector(account).refund_create(
            charge_id=charge.object_id, amount=300, reason="", idempotency_key="stale"
        )

    # The connector hands the live state with the refusal (it never writes the mirror)…
    (live,) = refused.value.refreshed
    assert (live.id, live.status) == (charge.object_id, ChargeStatus.DISPUTED)
    # …and the actions service, which called it, mirrors it.
    record_failure(
        ActionRequest(account=account, kind=ActionKind.REFUND),
        refused.value,
        actor=None,
        approver=None,
        ip=None,
    )
    assert Charge.objects.get(gateway_id=charge.object_id).status == ChargeStatus.DISPUTED


def test_a_second_backfill_of_unchanged_data_writes_nothing(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    engine.charge_create(customer_id=customer.object_id, amount=1000, currency="EUR")
    account_backfill(account=account)

    again = sync_run_execute(run=sync_run_start(account=account))

    assert (again.created, again.updated, again.stale) == (0, 0, 0)
    assert again.unchanged >= 3  # customer, card, charge
