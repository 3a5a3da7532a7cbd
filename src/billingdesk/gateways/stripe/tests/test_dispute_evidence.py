"""Dispute evidence through the Stripe connector, against the HTTP fake (localstripe has no
dispute endpoints, see shared/reference/disputes-sso-helpdesks.md §1)."""

from __future__ import annotations

from typing import Any

import pytest

from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.gateways.interface import DisputeStatus, GwDispute
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe.actions import EVIDENCE_FIELD_LIMIT, EVIDENCE_FILE_LIMIT
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake


def _dispute(fake: StripeFake, status: str = "needs_response") -> dict[str, Any]:
    return fake.add(
        {
            "id": "dp_1",
            "object": "dispute",
            "charge": "ch_1",
            "amount": 4200,
            "currency": "eur",
            "status": status,
            "reason": "product_not_received",
            "evidence_details": {"due_by": 1900000000, "submission_count": 0},
        }
    )


@pytest.mark.django_db
def test_evidence_is_submitted_once_with_its_key(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    _dispute(fake)
    result = connector_for(fake_account).dispute_evidence_submit(
        dispute_id="dp_1",
        evidence={
            "product_description": "Annual plan, delivered by e-mail",
            "customer_name": "Ada Lovelace",
            "uncategorized_text": "  ",
        },
        idempotency_key="dispute-evidence-1",
    )

    (obj,) = result.objects
    assert isinstance(obj, GwDispute)
    assert obj.status is DisputeStatus.UNDER_REVIEW
    stored = fake.objects["dp_1"]
    assert stored["evidence"] == {
        "product_description": "Annual plan, delivered by e-mail",
        "customer_name": "Ada Lovelace",
    }
    assert stored["evidence_details"]["submission_count"] == 1
    assert dict(fake.idempotency_keys)["/v1/disputes/dp_1"] == "dispute-evidence-1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "evidence",
    [
        {"receipt": "file_1"},  # a file field: not sent as text
        {"not_a_field": "x"},
        {"customer_name": "   "},
        {"uncategorized_text": "x" * (EVIDENCE_FIELD_LIMIT + 1)},
    ],
)
def test_bad_evidence_is_refused_before_any_request(
    fake: StripeFake, fake_account: GatewayAccount, evidence: dict[str, str]
) -> None:
    _dispute(fake)
    with pytest.raises(InvalidRequest):
        connector_for(fake_account).dispute_evidence_submit(
            dispute_id="dp_1", evidence=evidence, idempotency_key="k"
        )
    assert fake.requests == []


@pytest.mark.django_db
def test_dispute_under_review_takes_no_more_evidence(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    _dispute(fake, status="under_review")
    with pytest.raises(NotAllowed):
        connector_for(fake_account).dispute_evidence_submit(
            dispute_id="dp_1", evidence={"customer_name": "Ada"}, idempotency_key="k"
        )
    assert fake.calls("POST", "/v1/disputes") == 0


_PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.mark.django_db
def test_files_are_uploaded_first_and_their_ids_fill_the_file_fields(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    _dispute(fake)
    connector_for(fake_account).dispute_evidence_submit(
        dispute_id="dp_1",
        evidence={"uncategorized_text": "See the attached packet."},
        files={"uncategorized_file": _PDF},
        idempotency_key="dispute-evidence-2",
    )

    evidence = fake.objects["dp_1"]["evidence"]
    file_id = evidence["uncategorized_file"]
    assert fake.files[file_id] == _PDF  # byte for byte, binary included
    assert evidence["uncategorized_text"] == "See the attached packet."
    # The upload went before the one submitting request.
    posts = [p for m, p in fake.requests if m == "POST"]
    assert posts == ["/v1/files", "/v1/disputes/dp_1"]
    assert ("/v1/files", "dispute-evidence-2:file:uncategorized_file") in fake.idempotency_keys


@pytest.mark.django_db
@pytest.mark.parametrize(
    "files",
    [
        {"uncategorized_file": b"%PDF-" + b"x" * EVIDENCE_FILE_LIMIT},  # over 5 MB
        {"uncategorized_file": b"GIF89a"},  # not a PDF
        {"customer_name": _PDF},  # a text field
    ],
)
def test_bad_files_are_refused_before_any_request(
    fake: StripeFake, fake_account: GatewayAccount, files: dict[str, bytes]
) -> None:
    _dispute(fake)
    with pytest.raises(InvalidRequest):
        connector_for(fake_account).dispute_evidence_submit(
            dispute_id="dp_1", evidence={"customer_name": "Ada"}, files=files, idempotency_key="k"
        )
    assert fake.requests == []


@pytest.mark.django_db
def test_accepting_closes_the_dispute_as_lost(
    fake: StripeFake, fake_account: GatewayAccount
) -> None:
    _dispute(fake)
    result = connector_for(fake_account).dispute_accept(dispute_id="dp_1", idempotency_key="a-1")

    (obj,) = result.objects
    assert isinstance(obj, GwDispute) and obj.status is DisputeStatus.LOST
    assert fake.objects["dp_1"]["status"] == "lost"
    with pytest.raises(NotAllowed):  # irreversible: a second accept is refused before a write
        connector_for(fake_account).dispute_accept(dispute_id="dp_1", idempotency_key="a-2")
    assert fake.calls("POST", "/v1/disputes/dp_1/close") == 1
