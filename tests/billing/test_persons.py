"""Persons: one human across gateway accounts, matched automatically, corrected by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billingdesk.billing.identity import normalize_email, normalize_phone
from billingdesk.billing.models import Customer, MatchMethod, Person
from billingdesk.billing.selectors import person_resolve
from billingdesk.billing.services import (
    mirror_upsert,
    person_add_email,
    person_link_customer,
    person_unlink_customer,
)
from billingdesk.core.errors import InvalidRequest
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount

T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def eu(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name="EU store")


@pytest.fixture
def us(db: None) -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name="US SaaS")


def customer(account: GatewayAccount, gid: str, *, minutes: int = 0, **fields: str) -> Customer:
    mirror_upsert(
        account=account,
        objects=[gw.GwCustomer(id=gid, updated=T.replace(minute=minutes), **fields)],
    )
    return Customer.objects.get(account=account, gateway_id=gid)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ana.Lopez+billing@Example.COM ", "ana.lopez@example.com"),
        ("a.n.a@googlemail.com", "ana@gmail.com"),
        ("not-an-email", ""),
        ("@example.com", ""),
        ("", ""),
    ],
)
def test_email_normalisation(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


def test_phone_normalisation() -> None:
    assert normalize_phone("06 12 34 56 78", region="FR") == "+33612345678"
    assert normalize_phone("+33 6 12 34 56 78") == "+33612345678"
    assert normalize_phone("(415) 555-0100") == "+14155550100"
    assert normalize_phone("call me") == ""


def test_same_email_in_two_accounts_is_one_person(eu: GatewayAccount, us: GatewayAccount) -> None:
    a = customer(eu, "cus_a", email="Ana.Lopez@example.com", name="Ana López")
    b = customer(us, "cus_b", email="ana.lopez+us@EXAMPLE.com")

    assert a.person_id == b.person_id
    assert (a.match_method, a.match_confidence) == (MatchMethod.NEW, 100)
    assert (b.match_method, b.match_confidence) == (MatchMethod.EMAIL, 95)
    assert Person.objects.count() == 1


def test_different_emails_same_phone_match_by_phone(eu: GatewayAccount, us: GatewayAccount) -> None:
    a = customer(eu, "cus_a", email="jo@work.example", phone="+44 20 7946 0000")
    b = customer(us, "cus_b", email="jo@home.example", phone="+442079460000")

    assert a.person_id == b.person_id
    assert b.match_method == MatchMethod.PHONE


def test_strangers_stay_apart(eu: GatewayAccount) -> None:
    a = customer(eu, "cus_a", email="one@example.com")
    b = customer(eu, "cus_b", email="two@example.com")
    assert a.person_id != b.person_id


def test_two_new_customers_in_one_batch_share_a_person(
    eu: GatewayAccount, us: GatewayAccount
) -> None:
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwCustomer(id="cus_1", updated=T, email="x@example.com"),
            gw.GwCustomer(id="cus_2", updated=T, email="X@example.com"),
        ],
    )
    assert Customer.objects.values("person_id").distinct().count() == 1
    assert Person.objects.count() == 1


def test_changed_email_moves_customer_and_drops_the_empty_person(
    eu: GatewayAccount, us: GatewayAccount
) -> None:
    target = customer(eu, "cus_a", email="lee@example.com")
    moving = customer(us, "cus_b", email="other@example.com")
    assert Person.objects.count() == 2

    moved = customer(us, "cus_b", minutes=5, email="LEE@example.com")

    assert moved.person_id == target.person_id
    assert Person.objects.count() == 1
    assert not Person.objects.filter(pk=moving.person_id).exists()


def test_secondary_email_pulls_in_matching_customers(
    eu: GatewayAccount, us: GatewayAccount
) -> None:
    main = customer(eu, "cus_a", email="sam@company.example")
    other = customer(us, "cus_b", email="sam.private@example.org")
    person = Person.objects.get(pk=main.person_id)

    person_add_email(person=person, email="Sam.Private@example.org")

    other.refresh_from_db()
    assert other.person_id == person.pk
    assert other.match_method == MatchMethod.SECONDARY_EMAIL
    # And a customer created later with that address joins too.
    later = customer(eu, "cus_c", email="sam.private@example.org")
    assert later.person_id == person.pk


def test_secondary_email_must_be_an_address(eu: GatewayAccount) -> None:
    person = Person.objects.get(pk=customer(eu, "cus_a", email="a@example.com").person_id)
    with pytest.raises(InvalidRequest):
        person_add_email(person=person, email="nope")
    assert person.emails.count() == 0


def test_manual_unlink_sticks_across_resync(eu: GatewayAccount, us: GatewayAccount) -> None:
    a = customer(eu, "cus_a", email="same@example.com")
    b = customer(us, "cus_b", email="same@example.com")
    assert a.person_id == b.person_id

    person_unlink_customer(customer=b)
    b = customer(us, "cus_b", minutes=9, email="same@example.com", name="renamed")

    assert b.person_id != a.person_id
    assert (b.match_method, b.match_locked) == (MatchMethod.MANUAL, True)


def test_manual_link_merges_and_removes_the_orphan(eu: GatewayAccount, us: GatewayAccount) -> None:
    a = customer(eu, "cus_a", email="a@example.com")
    b = customer(us, "cus_b", email="b@example.com")
    old_person = b.person_id

    person_link_customer(customer=b, person=Person.objects.get(pk=a.person_id))

    b.refresh_from_db()
    assert b.person_id == a.person_id and b.match_confidence == 100
    assert not Person.objects.filter(pk=old_person).exists()


def test_resolve_by_every_key_strongest_first(eu: GatewayAccount, us: GatewayAccount) -> None:
    ana = customer(eu, "cus_ana", email="ana@example.com", name="Ana Lopez", phone="+34600111222")
    bob = customer(us, "cus_bob", email="bob@example.com", name="Bob Smith")
    mirror_upsert(
        account=us,
        objects=[
            gw.GwPaymentMethod(
                id="pm_1", updated=T, customer_id="cus_bob", brand="visa", last4="4242"
            ),
            gw.GwCharge(
                id="ch_9",
                updated=T,
                customer_id="cus_bob",
                amount=100,
                currency="USD",
                status=gw.ChargeStatus.CAPTURED,
                order_id="ORDER-77",
                alt_id="pi_9",
            ),
        ],
    )

    def people(**keys):  # type: ignore[no-untyped-def]
        return [(m.person.pk, m.method, m.confidence) for m in person_resolve(**keys)]

    assert people(email="ANA@example.com") == [(ana.person_id, MatchMethod.EMAIL, 95)]
    assert people(gateway_customer_id="cus_bob") == [(bob.person_id, MatchMethod.GATEWAY_ID, 100)]
    assert people(transaction_id="pi_9") == [(bob.person_id, MatchMethod.TRANSACTION_ID, 100)]
    assert people(order_id="ORDER-77") == [(bob.person_id, MatchMethod.ORDER_ID, 95)]
    assert people(phone="+34 600 111 222") == [(ana.person_id, MatchMethod.PHONE, 75)]
    assert people(card_last4="**** 4242") == [(bob.person_id, MatchMethod.CARD_LAST4, 30)]
    assert people(name="ana lopez") == [(ana.person_id, MatchMethod.NAME, 40)]
    assert people(email="nobody@example.com") == []
    # Several keys: each person once, with its strongest reason, strongest first.
    both = people(name="Ana Lopez", card_last4="4242", email="ana@example.com")
    assert both == [
        (ana.person_id, MatchMethod.EMAIL, 95),
        (bob.person_id, MatchMethod.CARD_LAST4, 30),
    ]
    assert people(email="x@example.com", secondary_emails=["bob@example.com"]) == [
        (bob.person_id, MatchMethod.SECONDARY_EMAIL, 90)
    ]


def _page_of_strangers(start: int, size: int) -> list[gw.GwCustomer]:
    return [
        gw.GwCustomer(id=f"cus_{i}", updated=T, email=f"buyer{i}@example.com", name=f"Buyer {i}")
        for i in range(start, start + size)
    ]


def test_a_page_of_new_customers_costs_the_same_queries_whatever_its_size(
    eu: GatewayAccount,
) -> None:
    """Each new customer gets its own person, all created in one statement, not one each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        mirror_upsert(account=eu, objects=_page_of_strangers(0, 3))
    with CaptureQueriesContext(connection) as large:
        mirror_upsert(account=eu, objects=_page_of_strangers(100, 60))
    assert len(large) == len(small)
    assert Person.objects.count() == 63
    people = {c.person_id for c in Customer.objects.all()}
    assert len(people) == 63  # strangers stay apart
    assert all(
        c.match_method == MatchMethod.NEW and c.person and c.person.primary_email == c.email
        for c in Customer.objects.select_related("person")
    )


def test_new_customers_of_one_page_sharing_a_phone_get_one_new_person(
    eu: GatewayAccount,
) -> None:
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwCustomer(id="cus_a", updated=T, email="a@example.com", phone="+33612345678"),
            gw.GwCustomer(id="cus_b", updated=T, email="b@example.com", phone="+33612345678"),
            gw.GwCustomer(id="cus_c", updated=T, email="c@example.com"),
        ],
    )
    a, b, c = (Customer.objects.get(gateway_id=g) for g in ("cus_a", "cus_b", "cus_c"))
    assert a.person_id == b.person_id != c.person_id
    assert {a.match_method, b.match_method} == {MatchMethod.NEW, MatchMethod.PHONE}
    assert Person.objects.count() == 2
