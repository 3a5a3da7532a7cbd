"""A Stripe account on the HTTP fake (localstripe has no dispute or file endpoints), a brand
issuing its documents, a customer with a subscription, a paid charge with its receipt, a
linked Zendesk ticket on the Zendesk fake, and the dispute of that charge, mirrored as a
webhook would mirror it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from tests.fakes.helpdesks import ZendeskFake

from billingdesk.billing.models import Charge, Dispute
from billingdesk.billing.services import mirror_upsert
from billingdesk.disputes.models import RefundPolicy
from billingdesk.documents.models import Brand, DocumentSeries, LegalEntity
from billingdesk.documents.services.issue import document_issue_for_charge
from billingdesk.documents.tests.conftest import ENTITIES
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake
from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket
from billingdesk.panel.tests.factories import agent

POLICY = "Refunds within 14 days of purchase; annual plans are prorated."
MESSAGE = "I got the invoice, thanks. Can I switch to the yearly plan next month?"


@dataclass
class Case:
    account: GatewayAccount
    stripe: StripeFake
    zendesk: ZendeskFake
    connection: HelpdeskConnection
    charge: Charge
    dispute: Dispute
    agent: User
    brand: Brand


def _entity() -> LegalEntity:
    entity = LegalEntity.objects.create(**ENTITIES["FR"])
    for kind, prefix in (("invoice", "F"), ("receipt", "FR"), ("credit_note", "FC")):
        DocumentSeries.objects.create(legal_entity=entity, kind=kind, prefix=prefix)
    return entity


def build_case(
    stripe_fake: StripeFake, zendesk: ZendeskFake, *, reason: str = "fraudulent"
) -> Case:
    account = make_account(stripe_fake.url, name="Stripe shop")
    brand = Brand.objects.create(name="Acme", legal_entity=_entity(), default_language="en")
    brand.accounts.add(account)
    RefundPolicy.objects.create(brand=brand, refund_policy=POLICY, disclosure="Checkout page")
    now = timezone.now()
    paid = now - timedelta(days=20)
    mirror_upsert(
        account=account,
        objects=[
            gw.GwCustomer(
                id="cus_1", updated=paid, created=paid - timedelta(days=200),
                email="ada@example.com", name="Ada Lovelace", country="FR",
            ),
            gw.GwSubscription(
                id="sub_1", updated=paid, created=paid - timedelta(days=200), customer_id="cus_1",
                status=gw.SubscriptionStatus.ACTIVE, product="Pro plan", plan="pro_m",
                amount=4200, currency="EUR", current_period_start=paid,
                current_period_end=paid + timedelta(days=30),
            ),
            gw.GwInvoice(
                id="in_1", updated=paid, created=paid, customer_id="cus_1",
                subscription_id="sub_1", status=gw.InvoiceStatus.PAID, currency="EUR",
                total=4200, amount_paid=4200, number="INV-1",
            ),
            gw.GwCharge(
                id="ch_1", updated=paid, created=paid, customer_id="cus_1", amount=4200,
                currency="EUR", amount_captured=4200, status=gw.ChargeStatus.CAPTURED,
                card_brand="visa", card_last4="4242", invoice_id="in_1",
                description="Pro plan, monthly",
            ),
        ],
    )  # fmt: skip
    charge = Charge.objects.get(account=account, gateway_id="ch_1")
    assert document_issue_for_charge(charge_id=charge.pk) is not None
    # Noon, five local days ahead: "answer within 5 days" whatever the hour the suite runs
    # (a deadline an hour past 5 days is on the 6th day after 23:00).
    due = timezone.localtime(now).replace(hour=12, minute=0, second=0, microsecond=0)
    due += timedelta(days=5)
    # Mirrored a while ago, at a whole second as Stripe versions it: an answer in the same
    # second as the fixture would otherwise look older than it (microseconds) and be ignored.
    opened = now.replace(microsecond=0) - timedelta(minutes=1)
    dispute_obj = gw.GwDispute(
        id="dp_1", updated=opened, created=opened, charge_id="ch_1", amount=4200, currency="EUR",
        status=gw.DisputeStatus.NEEDS_RESPONSE, reason=reason, evidence_due_by=due,
    )  # fmt: skip
    mirror_upsert(account=account, objects=[dispute_obj])
    stripe_fake.add(
        {
            "id": "dp_1", "object": "dispute", "charge": "ch_1", "amount": 4200,
            "currency": "eur", "status": "needs_response", "reason": reason,
            "evidence_details": {"due_by": int(due.timestamp()), "submission_count": 0},
        }
    )  # fmt: skip
    connection = HelpdeskConnection.objects.create(
        name="Zendesk",
        kind="zendesk",
        settings={"subdomain": "acme", "api_email": "bot@acme.example", "api_base": zendesk.url},
        secrets={"api_token": "zd-token"},
    )
    charge.refresh_from_db()
    assert charge.customer is not None
    HelpdeskTicket.objects.create(
        connection=connection,
        external_id="t-1",
        ticket_id="501",
        person_id=charge.customer.person_id,
    )
    zendesk.comment_add(501, author="ada@example.com", body=MESSAGE)
    zendesk.comment_add(501, author="agent@acme.example", body="Of course!", role="agent")
    return Case(
        account=account,
        stripe=stripe_fake,
        zendesk=zendesk,
        connection=connection,
        charge=charge,
        dispute=Dispute.objects.select_related("account", "charge__customer").get(
            account=account, gateway_id="dp_1"
        ),
        agent=agent("agent", "alice"),
        brand=brand,
    )


@pytest.fixture
def stripe_fake() -> Iterator[StripeFake]:
    with StripeFake() as server:
        yield server


@pytest.fixture
def zendesk() -> Iterator[ZendeskFake]:
    with ZendeskFake(email="bot@acme.example", token="zd-token") as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def case(db: None, stripe_fake: StripeFake, zendesk: ZendeskFake) -> Case:
    return build_case(stripe_fake, zendesk)
