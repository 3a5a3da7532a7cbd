"""Where the sandbox engine keeps its objects and events.

A ``Ledger`` is bound to one account and works in one of two modes. Normally every write goes
straight to the database (inside the caller's transaction) and each event is queued for
webhook delivery once the transaction commits. In bulk mode (seeding history) objects and
events are held in memory and written with a few ``bulk_create`` calls by ``flush``; the
engine code is the same in both modes, so seeded data is exactly what the live operations
would have produced.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.core.tasks import enqueue_on_commit
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.models import SandboxAccount, SandboxEvent, SandboxObject

JSON = dict[str, Any]
_TICK = timedelta(microseconds=1)
_BULK_BATCH = 500


def iso(moment: datetime | None) -> str | None:
    """The sandbox API's timestamp form: UTC, microseconds, ``Z`` suffix."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value))


def aware(moment: datetime | None) -> datetime:
    """``moment`` (must be timezone-aware) or now."""
    if moment is None:
        return timezone.now()
    if timezone.is_naive(moment):
        raise InvalidRequest("timestamps must be timezone-aware")
    return moment


def new_id(prefix: str) -> str:
    # 24 characters after the prefix, like Stripe's ids.
    return f"{prefix}_{secrets.token_hex(12)}"


def snapshot(value: Any) -> Any:
    """A deep copy of JSON data (faster than ``copy.deepcopy`` for plain dicts and lists)."""
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snapshot(v) for v in value]
    return value


class Ledger:
    """Object and event storage of one sandbox account for one engine."""

    def __init__(self, account: GatewayAccount, *, bulk: bool, webhooks: bool) -> None:
        self.account = account
        self.bulk = bulk
        self.webhooks = webhooks
        # Objects written by the operation in progress, in order, for the caller's result.
        self.changed: dict[str, SandboxObject] = {}
        self._cache: dict[str, SandboxObject] = {}
        self._new: list[SandboxObject] = []
        self._dirty: dict[str, SandboxObject] = {}
        self._events: list[SandboxEvent] = []
        self._settings: SandboxAccount | None = None
        self._settings_dirty = False

    # --- the unit of work -----------------------------------------------------------------
    def begin(self) -> None:
        """Start an operation: forget what the previous one touched."""
        self.changed = {}
        if not self.bulk:
            # Rows read by an earlier operation may have changed since; read them again.
            self._cache = {}
            self._settings = None

    # --- objects --------------------------------------------------------------------------
    def create(self, *, kind: str, prefix: str, data: JSON, created: datetime) -> SandboxObject:
        object_id = new_id(prefix)
        body: JSON = {"id": object_id, "object": kind, **data}
        body["created"] = body["updated"] = iso(created)
        obj = SandboxObject(
            account=self.account,
            object_id=object_id,
            kind=kind,
            data=body,
            created=created,
            updated=created,
        )
        if self.bulk:
            self._new.append(obj)
        else:
            obj.save(force_insert=True)
        self._cache[object_id] = obj
        self.changed[object_id] = obj
        return obj

    def get(self, object_id: str, kind: str) -> SandboxObject:
        """The object, locked for the rest of the transaction; ``NotFound`` if absent."""
        obj = self._cache.get(object_id)
        if obj is None:
            obj = (
                SandboxObject.objects.select_for_update()
                .filter(account=self.account, object_id=object_id)
                .first()
            )
        if obj is None or obj.kind != kind:
            raise NotFound(f"No such {kind.replace('_', ' ')}: {object_id!r}")
        self._cache[object_id] = obj
        return obj

    def save(self, obj: SandboxObject, *, at: datetime) -> None:
        """Store a changed object; its ``updated`` always moves forward, by 1 µs at least."""
        obj.updated = max(at, obj.updated + _TICK)
        obj.data["updated"] = iso(obj.updated)
        self.changed[obj.object_id] = obj
        if not self.bulk:
            obj.save(update_fields=["data", "updated"])
        elif obj.pk is not None:
            self._dirty[obj.object_id] = obj

    # --- events ---------------------------------------------------------------------------
    def emit(self, event_type: str, obj: SandboxObject) -> SandboxEvent:
        """Record that ``obj`` changed, with a snapshot of it, and queue its webhook."""
        event_id = new_id("evt")
        created = obj.updated
        payload: JSON = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": iso(created),
            "account": str(self.account.pk),
            "livemode": False,
            "data": {"object": snapshot(obj.data)},
        }
        deliver = self.webhooks and self.settings().webhooks_enabled
        event = SandboxEvent(
            account=self.account,
            event_id=event_id,
            type=event_type,
            object_id=obj.object_id,
            payload=payload,
            created=created,
            delivery=SandboxEvent.Delivery.PENDING if deliver else SandboxEvent.Delivery.OFF,
        )
        if self.bulk:
            self._events.append(event)
        else:
            event.save(force_insert=True)
            if deliver:
                from billingdesk.gateways.sandbox.delivery import event_deliver

                enqueue_on_commit(event_deliver, event.pk)
        return event

    # --- account settings -----------------------------------------------------------------
    def settings(self) -> SandboxAccount:
        if self._settings is None:
            self._settings = sandbox_account_for(self.account)
        return self._settings

    def next_invoice_number(self) -> str:
        if not self.bulk:
            # Locked re-read: two invoices finalised at once must not get the same number.
            self._settings = sandbox_account_for(self.account, lock=True)
        settings = self.settings()
        number = f"{settings.invoice_prefix}-{settings.next_invoice_number:05d}"
        settings.next_invoice_number += 1
        if self.bulk:
            self._settings_dirty = True
        else:
            settings.save(update_fields=["next_invoice_number"])
        return number

    # --- bulk -----------------------------------------------------------------------------
    def flush(self) -> int:
        """Write what bulk mode buffered (in creation order, so ``seq`` follows it)."""
        written = len(self._new) + len(self._dirty)
        if self._new:
            SandboxObject.objects.bulk_create(self._new, batch_size=_BULK_BATCH)
        if self._dirty:
            SandboxObject.objects.bulk_update(
                list(self._dirty.values()), ["data", "updated"], batch_size=_BULK_BATCH
            )
        if self._events:
            SandboxEvent.objects.bulk_create(self._events, batch_size=_BULK_BATCH)
        if self._settings_dirty and self._settings is not None:
            self._settings.save(update_fields=["next_invoice_number"])
        pending = [e.pk for e in self._events if e.delivery == SandboxEvent.Delivery.PENDING]
        if pending:
            from billingdesk.gateways.sandbox.delivery import event_deliver

            for pk in pending:
                enqueue_on_commit(event_deliver, pk)
        self._new, self._dirty, self._events = [], {}, []
        self._settings_dirty = False
        return written


def sandbox_account_for(account: GatewayAccount, *, lock: bool = False) -> SandboxAccount:
    """The account's sandbox settings row, created on first use."""
    query: models.QuerySet[SandboxAccount] = SandboxAccount.objects.filter(account=account)
    if lock:
        query = query.select_for_update()
    row = query.first()
    if row is None:
        row, _ = SandboxAccount.objects.get_or_create(
            account=account,
            defaults={"invoice_prefix": secrets.token_hex(4).upper()},
        )
    return row
