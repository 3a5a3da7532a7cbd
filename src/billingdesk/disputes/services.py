"""Writes: answering a dispute (evidence or acceptance) through the action service, who is
assigned to a dispute. The action service claims, calls the gateway once per form key and
audits; nothing here calls a gateway itself."""

from __future__ import annotations

from django.contrib.auth.models import User

from billingdesk.actions.models import ActionFile, ActionKind, ActionRequest
from billingdesk.actions.services import action_submit
from billingdesk.billing.models import Dispute
from billingdesk.core.errors import InvalidRequest
from billingdesk.disputes.models import DisputeCase, EvidencePacket

COVER_LIMIT = 20_000


def dispute_answer_submit(
    *,
    user: User,
    dispute: Dispute,
    packet: EvidencePacket,
    cover_text: str,
    reason_code: str,
    reason_text: str,
    confirmed: bool,
    idempotency_key: str,
    ip: str | None = None,
) -> ActionRequest:
    """Submit the packet (final at the gateway) once the agent confirmed it, exactly once per
    form key: a double click finds the first request."""
    if packet.dispute_id != dispute.pk:
        raise InvalidRequest("This packet belongs to another dispute. Reload the page.")
    if not confirmed:
        raise InvalidRequest("Confirm that you understand the submission is final.")
    cover = cover_text.strip()
    if not cover:
        raise InvalidRequest("Write the cover text: it is what the bank reads first.")
    if len(cover) > COVER_LIMIT:
        raise InvalidRequest(f"The cover text is longer than {COVER_LIMIT} characters.")
    ActionFile.objects.get_or_create(sha256=packet.sha256, defaults={"data": bytes(packet.pdf)})
    evidence = {**packet.fields, packet.cover_field: cover}
    return action_submit(
        user=user,
        kind=ActionKind.DISPUTE_SUBMIT,
        target=dispute,
        params={"evidence": evidence, "files": {packet.file_field: packet.sha256}},
        reason_code=reason_code,
        reason_text=reason_text,
        idempotency_key=idempotency_key,
        ip=ip,
    )


def dispute_accept(
    *,
    user: User,
    dispute: Dispute,
    reason_code: str,
    reason_text: str,
    confirmed: bool,
    idempotency_key: str,
    ip: str | None = None,
) -> ActionRequest:
    """Concede the dispute (irreversible at the gateway), exactly once per form key."""
    if not confirmed:
        raise InvalidRequest("Confirm that you understand accepting the dispute is final.")
    return action_submit(
        user=user,
        kind=ActionKind.DISPUTE_ACCEPT,
        target=dispute,
        params={},
        reason_code=reason_code,
        reason_text=reason_text,
        idempotency_key=idempotency_key,
        ip=ip,
    )


def dispute_assign(*, dispute: Dispute, user: User | None) -> DisputeCase:
    case, _created = DisputeCase.objects.update_or_create(
        dispute=dispute, defaults={"assigned_to": user}
    )
    return case
