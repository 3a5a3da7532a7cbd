"""What a customer changes on the billing pages: tax id, card, and what they can pay.

Each change goes through the gateway connector's own action (the one agents' actions call)
and is written to the audit log with the customer as actor (``customer <email>``, source
"customer", their IP). Nothing here takes a card number: the card update is the gateway's
hosted flow, and paying is the gateway's hosted invoice page.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from django.db import transaction

from billingdesk.actions.audit import audit_record
from billingdesk.billing.models import Customer, Invoice, PaymentMethod, Person, TaxId
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import (
    CapabilityMissing,
    NotFound,
    OperationalError,
    UserFacingError,
)
from billingdesk.core.html import safe_url
from billingdesk.core.money import money_format
from billingdesk.documents.services import billing_profile_set_tax_id
from billingdesk.documents.taxids import tax_id_validate
from billingdesk.gateways.interface import Capability, InvoiceStatus
from billingdesk.gateways.registry import connector_for

logger = logging.getLogger(__name__)


def customer_actor(person: Person) -> str:
    return f"customer {person.primary_email or person.pk}"


def _audit(
    person: Person, customer: Customer, *, action: str, result: str, detail: str, ip: str | None
) -> None:
    audit_record(
        actor=None,
        actor_name=customer_actor(person),
        action=action,
        result=result,
        account=customer.account,
        person_id=person.pk,
        target_kind="customer",
        target_id=customer.gateway_id,
        detail=f"source=customer; {detail}"[:2000],
        ip=ip or None,
    )


def customers_of(person_id: int) -> list[Customer]:
    return list(
        Customer.objects.filter(person_id=person_id, deleted=False)
        .select_related("account")
        .order_by("pk")
    )


@dataclass
class TaxIdOutcome:
    value: str
    country: str
    saved_at: list[str] = field(default_factory=list)  # gateway account names
    failed_at: list[str] = field(default_factory=list)


def tax_id_update(*, person: Person, country: str, value: str, ip: str | None) -> TaxIdOutcome:
    """Validate the tax id (python-stdnum; VIES behind ``BILLINGDESK_VIES_CHECK``), record it on
    the billing profile (which re-issues recent documents with it), and add it at every
    gateway account of the person whose connector can (``Capability.ADD_TAX_ID``).

    Raises ``InvalidRequest`` with the reason for an invalid number; a gateway that fails is
    reported in ``failed_at`` and audited, the documents are corrected all the same.
    """
    check = tax_id_validate(country=country, value=value)
    billing_profile_set_tax_id(person_id=person.pk, country=country, value=value)
    outcome = TaxIdOutcome(value=check.value, country=check.country)
    digest = hashlib.sha256(check.value.encode()).hexdigest()[:24]
    for customer in customers_of(person.pk):
        connector = connector_for(customer.account)
        if not connector.supports(Capability.ADD_TAX_ID):
            continue
        if TaxId.objects.filter(customer=customer, value=check.value, deleted=False).exists():
            outcome.saved_at.append(customer.account.name)
            continue
        try:
            result = connector.tax_id_add(
                customer_id=customer.gateway_id,
                tax_type=check.kind,
                value=check.value,
                idempotency_key=f"bd-portal-taxid-{customer.pk}-{digest}",
            )
        except (UserFacingError, OperationalError) as exc:
            logger.warning("tax id for customer %s refused by the gateway: %s", customer.pk, exc)
            _audit(person, customer, action="add_tax_id", result="failed",
                   detail=f"{check.value}: {exc.message}", ip=ip)  # fmt: skip
            outcome.failed_at.append(customer.account.name)
            continue
        with transaction.atomic():
            mirror_upsert(account=customer.account, objects=result.objects)
            _audit(person, customer, action="add_tax_id", result="succeeded",
                   detail=f"{check.kind} {check.value}", ip=ip)  # fmt: skip
        outcome.saved_at.append(customer.account.name)
    return outcome


@dataclass(frozen=True)
class CardPlace:
    """One gateway account of the person: its cards, and whether the card can be changed."""

    customer_id: int
    account: str
    cards: list[PaymentMethod]
    can_update: bool


def card_places(person_id: int) -> list[CardPlace]:
    places = []
    for customer in customers_of(person_id):
        cards = list(
            PaymentMethod.objects.filter(customer=customer, deleted=False).order_by(
                "-is_default", "-pk"
            )
        )
        can = connector_for(customer.account).supports(Capability.CARD_UPDATE)
        places.append(CardPlace(customer.pk, customer.account.name, cards, can))
    return places


def card_update_start(*, person: Person, customer_pk: int, return_url: str, ip: str | None) -> str:
    """Where to send the customer to change their card at the gateway (its hosted page)."""
    customer = (
        Customer.objects.filter(pk=customer_pk, person=person, deleted=False)
        .select_related("account")
        .first()
    )
    if customer is None:
        raise NotFound("No such billing account.")
    connector = connector_for(customer.account)
    if not connector.supports(Capability.CARD_UPDATE):
        raise CapabilityMissing(f"{connector.display_name} cannot update a card here")
    result = connector.card_update_start(customer_id=customer.gateway_id, return_url=return_url)
    url = safe_url(result.url)
    if not url:
        raise OperationalError("The gateway did not give a card page to go to.")
    _audit(person, customer, action="card_update_start", result="succeeded",
           detail="sent to the gateway's card page", ip=ip)  # fmt: skip
    return url


@dataclass(frozen=True)
class Payable:
    number: str
    amount: str  # what is due, in the active language
    url: str  # the gateway's hosted page


def invoices_to_pay(person_id: int) -> list[Payable]:
    """The person's open gateway invoices that have a hosted page to pay them on (Stripe's
    hosted invoice page, the sandbox's pay page); paid ones leave the list once the
    gateway's webhook updates the mirror."""
    rows = (
        Invoice.objects.filter(
            customer__person_id=person_id,
            deleted=False,
            status=InvoiceStatus.OPEN,
            amount_due__gt=0,
        )
        .exclude(hosted_url="")
        .only("number", "gateway_id", "amount_due", "currency", "hosted_url")
        .order_by("-gateway_created_at", "-pk")
    )
    return [
        Payable(i.number or i.gateway_id, money_format(i.amount_due, i.currency), url)
        for i in rows
        if (url := safe_url(i.hosted_url))
    ]


def tax_ids_of(person_id: int) -> list[str]:
    """The tax ids on file for the person (billing profile and gateways), each once."""
    from billingdesk.documents.models import BillingProfile

    values = list(
        TaxId.objects.filter(customer__person_id=person_id, deleted=False)
        .order_by("-pk")
        .values_list("value", flat=True)
    )
    profile = BillingProfile.objects.filter(person_id=person_id).first()
    if profile is not None and profile.tax_id:
        values.insert(0, profile.tax_id)
    return list(dict.fromkeys(values))
