"""Two submissions of one review form at the same moment (a double click that reaches two
server threads): one request, one gateway submission. PostgreSQL only — SQLite serialises
writers by design, and the sequential double click is covered in ``test_answer``."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from tests.e2e.test_portal import documents_flushable  # noqa: F401  (a fixture)
from tests.fakes.helpdesks import ZendeskFake

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.services import action_key_issue
from billingdesk.disputes.packet import packet_assemble
from billingdesk.disputes.services import dispute_answer_submit
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake

from .conftest import build_case


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_the_same_moment_submit_once(
    stripe_fake: StripeFake,
    zendesk: ZendeskFake,
    documents_flushable: None,  # noqa: F811
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("exercises PostgreSQL's unique key under concurrency; SQLite serialises")
    case = build_case(stripe_fake, zendesk)
    packet = packet_assemble(dispute=case.dispute, user=case.agent)
    key = action_key_issue(user=case.agent)
    barrier = threading.Barrier(2)
    statuses: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            done = dispute_answer_submit(
                user=case.agent,
                dispute=case.dispute,
                packet=packet,
                cover_text="Authorised by the cardholder.",
                reason_code="evidence_complete",
                reason_text="",
                confirmed=True,
                idempotency_key=key,
            )
            statuses.append(done.status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(statuses) == 2
    assert ActionRequest.objects.filter(kind=ActionKind.DISPUTE_SUBMIT).count() == 1
    assert stripe_fake.calls("POST", "/v1/disputes/dp_1") == 1
