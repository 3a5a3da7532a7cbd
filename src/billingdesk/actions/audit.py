"""The audit log: append in the caller's transaction, verify the whole chain, anchor it.

Each entry's hash covers its content and the previous hash, so an edit or a deletion inside
the log breaks the chain. Someone with write access to the database could still rewrite the
chain from the edit on, or cut its tail and move the head back; what catches that is outside
the database: ``audit_check`` (the workers' periodic check and ``billingdesk audit verify``)
appends a checkpoint (seq, hash, time) signed with HMAC-SHA256 under
``AUDIT_ANCHOR_KEY`` — a key the database does not hold — to ``AUDIT_ANCHOR_FILE`` and to
the log. Verification then also requires every checkpointed entry to still exist with the
hash it had, so a rewrite or a truncation reaching back before the last checkpoint fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from billingdesk.actions.models import AuditCheck, AuditEntry, AuditHead

logger = logging.getLogger("billingdesk.audit")

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


def audit_record(
    *, actor: User | None, action: str, result: str, actor_name: str = "", **fields: Any
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records.

    ``actor_name`` names an actor who is not a user (``customer <email>`` for what a customer
    did on the billing pages); by default the user's label, or "system".
    """
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor,
            actor_name=actor_name[:300] or actor_label(actor),
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


@dataclass(frozen=True)
class ChainProblem:
    """What is wrong with the audit log: the first bad entry (or where one is missing)."""

    seq: int | None
    reason: str


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str


def _anchor_mac(seq: int, digest: str, at: str) -> str:
    key = str(settings.AUDIT_ANCHOR_KEY).encode()
    return hmac.new(key, f"{seq}:{digest}:{at}".encode(), hashlib.sha256).hexdigest()


def _anchor_path() -> Path | None:
    path = str(getattr(settings, "AUDIT_ANCHOR_FILE", "") or "")
    return Path(path) if path else None


def anchors_read() -> tuple[list[Anchor], ChainProblem | None]:
    """The signed checkpoints in the anchor file, oldest first, or why the file is not sound."""
    path = _anchor_path()
    if path is None or not path.exists():
        return [], None
    found: list[Anchor] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                anchor = Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
                mac = str(data["mac"])
            except (ValueError, KeyError, TypeError):
                return found, ChainProblem(None, f"line {number} of {path} is not a checkpoint")
            if not hmac.compare_digest(mac, _anchor_mac(anchor.seq, anchor.hash, anchor.at)):
                return found, ChainProblem(
                    None,
                    f"the checkpoint on line {number} of {path} is not signed with the anchor key",
                )
            found.append(anchor)
    return found, None


def audit_inspect(*, anchors: bool = True) -> tuple[int, ChainProblem | None]:
    """Walk the whole chain (and the checkpoints): how many entries, and the first problem."""
    checkpoints: dict[int, Anchor] = {}
    if anchors:
        listed, problem = anchors_read()
        if problem is not None:
            return 0, problem
        checkpoints = {a.seq: a for a in listed}
    previous = "0" * 64
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return expected_seq - 1, ChainProblem(
                expected_seq, f"entry #{expected_seq} is missing (the next one is #{entry.seq})"
            )
        if entry.prev_hash != previous:
            return expected_seq - 1, ChainProblem(
                entry.seq, f"entry #{entry.seq} does not link to entry #{entry.seq - 1}"
            )
        if entry.hash != _digest(entry):
            return expected_seq - 1, ChainProblem(
                entry.seq, f"entry #{entry.seq} was changed after it was written"
            )
        anchor = checkpoints.get(entry.seq)
        if anchor is not None and anchor.hash != entry.hash:
            return expected_seq - 1, ChainProblem(
                entry.seq,
                f"entry #{entry.seq} differs from the checkpoint signed at {anchor.at}: the "
                "log was rewritten at or before it",
            )
        previous = entry.hash
        expected_seq += 1
    last = expected_seq - 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.seq != last:
        return last, ChainProblem(
            last + 1, f"the log ends at #{last} but its head says #{head.seq}: entries were removed"
        )
    if checkpoints:
        furthest = max(checkpoints.values(), key=lambda a: a.seq)
        if furthest.seq > last:
            return last, ChainProblem(
                last + 1,
                f"a checkpoint signed at {furthest.at} covers #{furthest.seq} but the log ends "
                f"at #{last}: entries were removed",
            )
    return last, None


def audit_verify() -> int | None:
    """The seq of the first entry whose content or link was altered, or None if intact."""
    _count, problem = audit_inspect(anchors=False)
    return problem.seq if problem is not None else None


def anchor_write(*, seq: int, digest: str) -> bool:
    """Append a signed checkpoint of entry ``seq`` to the anchor file and the log."""
    at = timezone.now().isoformat()
    line = json.dumps(
        {"seq": seq, "hash": digest, "at": at, "mac": _anchor_mac(seq, digest, at)},
        separators=(",", ":"),
    )
    logger.info("audit checkpoint %s", line)
    path = _anchor_path()
    if path is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def audit_check(*, checkpoint: bool = True) -> AuditCheck:
    """Verify the chain and the checkpoints, record the result, and checkpoint a sound chain."""
    count, problem = audit_inspect()
    anchored = None
    if problem is None and checkpoint and count:
        listed, _ = anchors_read()
        if not listed or listed[-1].seq < count:
            last = AuditEntry.objects.only("hash").get(seq=count)
            if anchor_write(seq=count, digest=last.hash):
                anchored = count
    if problem is not None:
        logger.error("audit log verification failed: %s", problem.reason)
    return AuditCheck.objects.create(
        ok=problem is None,
        entries=count,
        first_bad_seq=problem.seq if problem else None,
        detail=problem.reason if problem else "",
        anchored_seq=anchored,
    )


def audit_alert() -> AuditCheck | None:
    """The latest check, if it found the log broken (shown in the admin)."""
    latest = AuditCheck.objects.order_by("-at", "-pk").first()
    return latest if latest is not None and not latest.ok else None
