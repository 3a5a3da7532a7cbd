"""Reads from the billing mirror and persons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from billingdesk.billing.identity import normalize_email, normalize_last4, normalize_phone
from billingdesk.billing.models import (
    MATCH_CONFIDENCE,
    Charge,
    Customer,
    MatchMethod,
    PaymentMethod,
    Person,
    PersonEmail,
)


@dataclass(frozen=True, slots=True)
class PersonMatch:
    """A person found for a requester, with the strongest reason found."""

    person: Person
    method: MatchMethod
    confidence: int
    matched_on: str  # the value that matched, for display ("ana@example.com", "ch_123")


def person_resolve(
    *,
    email: str | None = None,
    secondary_emails: Iterable[str] = (),
    phone: str | None = None,
    gateway_customer_id: str | None = None,
    transaction_id: str | None = None,
    order_id: str | None = None,
    card_last4: str | None = None,
    name: str | None = None,
) -> list[PersonMatch]:
    """Every person a helpdesk requester may be, most certain first.

    Each key is looked up through an index; weak keys (name, card last 4) only add candidates
    with a low confidence, they never outrank an email or id match.
    """
    found: dict[int, tuple[MatchMethod, str]] = {}

    def add(person_ids: Iterable[int | None], method: MatchMethod, value: str) -> None:
        for pid in person_ids:
            if pid is None:
                continue
            current = found.get(pid)
            if current is None or MATCH_CONFIDENCE[method] > MATCH_CONFIDENCE[current[0]]:
                found[pid] = (method, value)

    if gateway_customer_id:
        add(
            _customer_people(Q(gateway_id=gateway_customer_id.strip())),
            MatchMethod.GATEWAY_ID,
            gateway_customer_id,
        )
    if transaction_id:
        tid = transaction_id.strip()
        add(_charge_people(Q(gateway_id=tid) | Q(alt_id=tid)), MatchMethod.TRANSACTION_ID, tid)
    if order_id:
        add(_charge_people(Q(order_id=order_id.strip())), MatchMethod.ORDER_ID, order_id)
    for value, method in [(email, MatchMethod.EMAIL)] + [
        (extra, MatchMethod.SECONDARY_EMAIL) for extra in secondary_emails
    ]:
        normalized = normalize_email(value)
        if not normalized:
            continue
        add(_customer_people(Q(email_normalized=normalized)), method, value or "")
        add(
            PersonEmail.objects.filter(email_normalized=normalized).values_list(
                "person_id", flat=True
            ),
            MatchMethod.SECONDARY_EMAIL,
            value or "",
        )
    normalized_phone = normalize_phone(phone)
    if normalized_phone:
        add(_customer_people(Q(phone_normalized=normalized_phone)), MatchMethod.PHONE, phone or "")
    last4 = normalize_last4(card_last4)
    if last4:
        add(
            PaymentMethod.objects.filter(last4=last4, customer__person__isnull=False).values_list(
                "customer__person_id", flat=True
            )[:50],
            MatchMethod.CARD_LAST4,
            last4,
        )
    if name and name.strip():
        add(_customer_people(Q(name__iexact=name.strip()))[:50], MatchMethod.NAME, name.strip())

    persons = Person.objects.in_bulk(list(found))
    matches = [
        PersonMatch(
            person=persons[pid],
            method=method,
            confidence=MATCH_CONFIDENCE[method],
            matched_on=value,
        )
        for pid, (method, value) in found.items()
        if pid in persons
    ]
    matches.sort(key=lambda m: (-m.confidence, m.person.pk))
    return matches


def _customer_people(condition: Q):  # type: ignore[no-untyped-def]
    return (
        Customer.objects.filter(condition, person__isnull=False)
        .values_list("person_id", flat=True)
        .distinct()
    )


def _charge_people(condition: Q):  # type: ignore[no-untyped-def]
    return (
        Charge.objects.filter(condition, customer__person__isnull=False)
        .values_list("customer__person_id", flat=True)
        .distinct()
    )
