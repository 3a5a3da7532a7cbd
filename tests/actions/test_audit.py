"""The audit log is append-only and tamper-evident."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import User

from billingdesk.actions.audit import audit_record, audit_verify
from billingdesk.actions.models import AuditEntry


@pytest.mark.django_db
def test_a_clean_chain_verifies() -> None:
    agent = User.objects.create_user("ana", first_name="Ana", last_name="Lopez")
    for n in range(5):
        audit_record(
            actor=agent,
            action="refund",
            result="succeeded",
            amount=100 * n,
            currency="EUR",
            reason_code="duplicate",
        )
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].actor_name == "Ana Lopez (ana)"
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert audit_verify() is None


@pytest.mark.django_db
def test_editing_a_past_entry_is_detected() -> None:
    for _ in range(4):
        audit_record(actor=None, action="refund", result="succeeded", amount=500, currency="EUR")
    AuditEntry.objects.filter(seq=2).update(amount=50)  # a quiet edit straight in the database
    assert audit_verify() == 2


@pytest.mark.django_db
def test_deleting_an_entry_is_detected() -> None:
    for _ in range(4):
        audit_record(actor=None, action="void", result="succeeded")
    AuditEntry.objects.filter(seq=3).delete()
    assert audit_verify() == 3
    AuditEntry.objects.filter(seq=4).delete()
    assert audit_verify() == 3


@pytest.mark.django_db
def test_removing_the_last_entry_is_detected() -> None:
    for _ in range(3):
        audit_record(actor=None, action="void", result="succeeded")
    AuditEntry.objects.filter(seq=3).delete()
    assert audit_verify() == 3
