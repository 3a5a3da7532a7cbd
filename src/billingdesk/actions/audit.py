"""The audit log: append in the caller's transaction, verify the whole chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from billingdesk.actions.models import AuditEntry, AuditHead

# The columns a hash covers, in a fixed order (ids, not objects, so verification needs no joins).
_HASHED = (
    "seq", "at", "actor_id", "actor_name", "approver_name", "action", "result", "account_id",
    "person_id", "target_kind", "target_id", "amount", "currency", "reason_code", "reason_text",
    "gateway_request_id", "detail", "ip", "request_id", "prev_hash",
)  # fmt: skip


def _digest(entry: AuditEntry) -> str:
    values = {name: getattr(entry, name) for name in _HASHED}
    values["at"] = entry.at.isoformat()
    values["account_id"] = str(values["account_id"]) if values["account_id"] else None
    canonical = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def actor_label(user: User | None) -> str:
    if user is None:
        return "system"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    name = user.get_username()
    return f"{full} ({name})" if full else name


def audit_record(*, actor: User | None, action: str, result: str, **fields: Any) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor,
            actor_name=actor_label(actor),
            action=action,
            result=result,
            prev_hash=head.hash,
            **fields,
        )
        entry.hash = _digest(entry)
        entry.save()
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def audit_verify() -> int | None:
    """The seq of the first entry whose content or link was altered, or None if intact."""
    previous = "0" * 64
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq or entry.prev_hash != previous or entry.hash != _digest(entry):
            return entry.seq if entry.seq == expected_seq else expected_seq
        previous = entry.hash
        expected_seq += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.seq != expected_seq - 1:
        return expected_seq  # entries were removed from the end
    return None
