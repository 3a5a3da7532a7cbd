"""Factories for the documents tests: issuers per jurisdiction, and payments that enter the
mirror the way a gateway delivers them (``mirror_upsert``), so the signal path is exercised."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pypdf
import pytest

from billingdesk.billing.models import Charge, Customer, Refund
from billingdesk.billing.services import mirror_upsert
from billingdesk.documents.demo import FRENCH_ENTITY
from billingdesk.documents.models import BillingProfile, Brand, DocumentSeries, LegalEntity
from billingdesk.gateways.interface import (
    ChargeStatus,
    GwCharge,
    GwCustomer,
    GwRefund,
    GwTaxId,
    RefundStatus,
)
from billingdesk.gateways.models import GatewayAccount

ENTITIES: dict[str, dict[str, Any]] = {
    "FR": dict(name="Acme France", **FRENCH_ENTITY),
    "ES": dict(
        name="Acme España SL",
        address_line1="Calle Mayor 1",
        postcode="28013",
        city="Madrid",
        country="ES",
        vat_number="ESB58378431",
    ),
    "DE": dict(
        name="Acme Deutschland GmbH",
        address_line1="Unter den Linden 1",
        postcode="10117",
        city="Berlin",
        country="DE",
        vat_number="DE136695976",
        company_ids={"HRB": "Berlin HRB 12345"},
    ),
    "GB": dict(
        name="Acme UK Ltd",
        address_line1="1 King Street",
        postcode="EC2V 8AU",
        city="London",
        country="GB",
        vat_number="GB980780684",
        company_ids={"Company No.": "01234567"},
    ),
    "AU": dict(
        name="Acme Australia Pty Ltd",
        address_line1="1 George St",
        postcode="2000",
        city="Sydney",
        region="NSW",
        country="AU",
        vat_number="51824753556",
    ),
    "IN": dict(
        name="Acme India Pvt Ltd",
        address_line1="1 MG Road",
        postcode="560001",
        city="Bengaluru",
        region="KA",
        country="IN",
        vat_number="29AAPFU0939F1ZR",
        company_ids={"SAC": "998314"},
    ),
    "CA": dict(
        name="Acme Canada Inc",
        address_line1="1 Bay St",
        postcode="M5J 2N8",
        city="Toronto",
        region="ON",
        country="CA",
        vat_number="123456782RT0001",
    ),
}

_seq = itertools.count(1)


@dataclass
class Shop:
    account: GatewayAccount
    brand: Brand
    entity: LegalEntity

    def pay(
        self,
        *,
        amount: int = 12000,
        currency: str = "EUR",
        email: str | None = None,
        name: str = "Jane Buyer",
        country: str = "",
        description: str = "Pro plan, November 2026",
        customer_id: str | None = None,
    ) -> Charge:
        n = next(_seq)
        cust = customer_id or f"cus_{n}"
        now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        mirror_upsert(
            account=self.account,
            objects=[
                GwCustomer(
                    id=cust,
                    updated=now,
                    created=now,
                    email=email or f"buyer{n}@example.org",
                    name=name,
                    country=country,
                ),
                GwCharge(
                    id=f"ch_{n}",
                    updated=now,
                    created=now,
                    customer_id=cust,
                    amount=amount,
                    amount_captured=amount,
                    currency=currency,
                    status=ChargeStatus.CAPTURED,
                    description=description,
                ),
            ],
        )
        return Charge.objects.get(account=self.account, gateway_id=f"ch_{n}")

    def refund(self, charge: Charge, amount: int, reason: str = "requested_by_customer") -> Refund:
        n = next(_seq)
        now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
        mirror_upsert(
            account=self.account,
            objects=[
                GwRefund(
                    id=f"re_{n}",
                    updated=now,
                    created=now,
                    charge_id=charge.gateway_id,
                    amount=amount,
                    currency=charge.currency,
                    status=RefundStatus.SUCCEEDED,
                    reason=reason,
                )
            ],
        )
        return Refund.objects.get(account=self.account, gateway_id=f"re_{n}")

    def add_tax_id(self, customer: Customer, value: str, country: str) -> None:
        n = next(_seq)
        now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
        mirror_upsert(
            account=self.account,
            objects=[
                GwTaxId(
                    id=f"txi_{n}",
                    updated=now,
                    created=now,
                    customer_id=customer.gateway_id,
                    tax_type="eu_vat",
                    value=value,
                    country=country,
                )
            ],
        )


DOCUMENTS_FROM = datetime(2026, 1, 1, tzinfo=UTC)


def shop_create(country: str, *, language: str = "en", **brand: Any) -> Shop:
    entity = LegalEntity.objects.create(**ENTITIES[country])
    prefix = {"FR": "F", "ES": "FA", "DE": "RE", "GB": "INV", "AU": "TI", "IN": "IN", "CA": "C"}[
        country
    ]
    DocumentSeries.objects.create(legal_entity=entity, kind="invoice", prefix=prefix)
    DocumentSeries.objects.create(legal_entity=entity, kind="receipt", prefix=prefix + "R")
    DocumentSeries.objects.create(legal_entity=entity, kind="credit_note", prefix=prefix + "C")
    # The shop's test payments are dated November 2026: document from before them.
    account = GatewayAccount.objects.create(
        kind="sandbox", name=f"{country} store {next(_seq)}", documents_from=DOCUMENTS_FROM
    )
    b = Brand.objects.create(
        name=f"Acme {country} {next(_seq)}",
        legal_entity=entity,
        default_language=language,
        footer=f"Acme {country} — support@acme.example",
        reply_to="help@acme.example",
        from_email="billing@acme.example",
        **brand,
    )
    b.accounts.add(account)
    return Shop(account=account, brand=b, entity=entity)


def profile_set(customer: Customer, **values: Any) -> BillingProfile:
    assert customer.person_id
    profile, _ = BillingProfile.objects.update_or_create(
        person_id=customer.person_id, defaults=values
    )
    return profile


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # Babel uses (narrow) no-break spaces in amounts; compare with plain spaces.
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def shop_factory():
    return shop_create


@pytest.fixture(autouse=True)
def every_facturx_passes_en16931():
    """Every Factur-X document a test issues must pass the EN 16931 business rules (and, for a
    French seller, the BR-FR Flux 2 rules): checked with Saxon after the test, per document.
    Its XML (from the compiled template, ``render.cii_template``) must also be, byte for byte,
    what the factur-x library writes for the same data."""
    from django.db.models.signals import post_save
    from facturx import generate_xml

    from billingdesk.documents.models import Document
    from billingdesk.documents.render.facturx import facturx_data
    from billingdesk.documents.tests.schematron import assert_en16931

    issued: list[tuple[str, bytes, bool]] = []

    def collect(sender: type[Document], instance: Document, created: bool, **kwargs: Any) -> None:
        if created and instance.has_facturx:
            from facturx import get_xml_from_pdf

            _, xml = get_xml_from_pdf(bytes(instance.pdf), check_xsd=False)
            library = generate_xml(
                facturx_data(instance), level="en16931", check_xsd=False, check_schematron=False
            )
            assert xml == library, f"{instance.number}: the template's XML is not the library's"
            issued.append((instance.number, xml, instance.seller.get("country") == "FR"))

    post_save.connect(collect, sender=Document, weak=False)
    try:
        yield issued
    finally:
        post_save.disconnect(collect, sender=Document)
    for number, xml, _french in issued:
        try:
            assert_en16931(xml, french=_french)
        except AssertionError as exc:
            raise AssertionError(f"{number}: {exc}") from None
