"""Persons: matching customers to the person they belong to, and an agent's manual links
and secondary emails.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from billingdesk.billing.identity import normalize_email
from billingdesk.billing.models import MATCH_CONFIDENCE, Customer, MatchMethod, Person, PersonEmail
from billingdesk.billing.services.rows import _update_rows
from billingdesk.core.errors import InvalidRequest


def customers_match(*, customers: Sequence[Customer]) -> None:
    """Attach each customer to the person it belongs to, creating persons as needed.

    Matching is by normalised email (any other customer's, then a person's secondary emails),
    then by phone; a customer an agent linked by hand (``match_locked``) is left alone. Works
    on a batch with a fixed number of queries.
    """
    todo = [c for c in customers if not c.match_locked]
    if not todo:
        return
    pks = [c.pk for c in todo]
    emails = {c.email_normalized for c in todo} - {""}
    phones = {c.phone_normalized for c in todo} - {""}
    by_email: dict[str, int] = {}
    by_secondary: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    if emails:
        for email, pid in (
            Customer.objects.filter(email_normalized__in=emails, person__isnull=False)
            .exclude(pk__in=pks)
            .order_by("person_id")
            .values_list("email_normalized", "person_id")
        ):
            by_email.setdefault(email, pid)
        for email, pid in (
            PersonEmail.objects.filter(email_normalized__in=emails)
            .order_by("person_id")
            .values_list("email_normalized", "person_id")
        ):
            by_secondary.setdefault(email, pid)
    if phones:
        for phone, pid in (
            Customer.objects.filter(phone_normalized__in=phones, person__isnull=False)
            .exclude(pk__in=pks)
            .order_by("person_id")
            .values_list("phone_normalized", "person_id")
        ):
            by_phone.setdefault(phone, pid)

    previous = {c.pk: c.person_id for c in todo}
    needs_person: list[Customer] = []
    for customer in todo:
        method, person_id = _best_match(customer, by_email, by_secondary, by_phone)
        if person_id is None:
            if customer.person_id is not None and customer.match_method != MatchMethod.NEW:
                # It matched someone before and no longer matches anyone: give it its own person.
                customer.person_id = None
            if customer.person_id is None:
                needs_person.append(customer)
            continue
        customer.person_id = person_id
        customer.match_method = method
        customer.match_confidence = MATCH_CONFIDENCE[method]
        # Later customers of the same batch match this one.
        if customer.email_normalized:
            by_email.setdefault(customer.email_normalized, person_id)
        if customer.phone_normalized:
            by_phone.setdefault(customer.phone_normalized, person_id)

    # Customers nobody matched get new persons, created in one statement. A new person is
    # known by a placeholder (-1, -2, ...) until then, so later customers of the batch can
    # match it by email or phone exactly as they would match an existing one.
    new_persons: list[Person] = []
    for customer in needs_person:
        method, person_id = _best_match(customer, by_email, by_secondary, by_phone)
        if person_id is None:
            new_persons.append(Person(name=customer.name, primary_email=customer.email))
            person_id, method = -len(new_persons), MatchMethod.NEW
        customer.person_id = person_id
        customer.match_method = method
        customer.match_confidence = MATCH_CONFIDENCE[method]
        if customer.email_normalized:
            by_email.setdefault(customer.email_normalized, person_id)
        if customer.phone_normalized:
            by_phone.setdefault(customer.phone_normalized, person_id)
    if new_persons:
        Person.objects.bulk_create(new_persons)
        for customer in needs_person:
            if customer.person_id is not None and customer.person_id < 0:
                customer.person_id = new_persons[-customer.person_id - 1].pk

    _update_rows(Customer, todo, ["person", "match_method", "match_confidence"])
    _delete_orphans({pid for pid in previous.values() if pid} - {c.person_id for c in todo})


def _best_match(
    customer: Customer,
    by_email: dict[str, int],
    by_secondary: dict[str, int],
    by_phone: dict[str, int],
) -> tuple[MatchMethod, int | None]:
    if customer.email_normalized in by_email:
        return MatchMethod.EMAIL, by_email[customer.email_normalized]
    if customer.email_normalized in by_secondary:
        return MatchMethod.SECONDARY_EMAIL, by_secondary[customer.email_normalized]
    if customer.phone_normalized in by_phone:
        return MatchMethod.PHONE, by_phone[customer.phone_normalized]
    return MatchMethod.NEW, None


def _delete_orphans(person_ids: set[int]) -> None:
    """Remove persons left with no customer and no email of their own."""
    if person_ids:
        Person.objects.filter(
            pk__in=person_ids, customers__isnull=True, emails__isnull=True
        ).delete()


@transaction.atomic
def person_link_customer(*, customer: Customer, person: Person) -> Customer:
    """An agent says this record belongs to this person; automatic matching will not undo it."""
    old = customer.person_id
    customer.person = person
    customer.match_method = MatchMethod.MANUAL
    customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.MANUAL]
    customer.match_locked = True
    customer.save(update_fields=["person", "match_method", "match_confidence", "match_locked"])
    if old and old != person.pk:
        _delete_orphans({old})
    return customer


@transaction.atomic
def person_unlink_customer(*, customer: Customer) -> Person:
    """An agent says this record is not that person: it gets a person of its own, for good."""
    old = customer.person_id
    person = Person.objects.create(name=customer.name, primary_email=customer.email)
    customer.person = person
    customer.match_method = MatchMethod.MANUAL
    customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.MANUAL]
    customer.match_locked = True
    customer.save(update_fields=["person", "match_method", "match_confidence", "match_locked"])
    if old:
        _delete_orphans({old})
    return person


@transaction.atomic
def person_add_email(*, person: Person, email: str) -> PersonEmail:
    """Record a secondary address; unlocked customers with it join this person."""
    normalized = normalize_email(email)
    if not normalized:
        raise InvalidRequest(f"{email!r} is not an email address")
    row, _ = PersonEmail.objects.get_or_create(
        person=person, email_normalized=normalized, defaults={"email": email.strip()}
    )
    strays = list(
        Customer.objects.filter(email_normalized=normalized, match_locked=False).exclude(
            person=person
        )
    )
    if strays:
        old = {c.person_id for c in strays if c.person_id}
        for customer in strays:
            customer.person = person
            customer.match_method = MatchMethod.SECONDARY_EMAIL
            customer.match_confidence = MATCH_CONFIDENCE[MatchMethod.SECONDARY_EMAIL]
        _update_rows(Customer, strays, ["person", "match_method", "match_confidence"])
        _delete_orphans(old)
    return row
