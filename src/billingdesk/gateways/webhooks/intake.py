"""Webhook intake, in the web request: verify the signature, read the event id, store the
raw request with its outcome and request the account's drain, in one transaction.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Field
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from billingdesk.core import sql
from billingdesk.core.errors import MalformedPayload, SignatureInvalid
from billingdesk.core.tasks import enqueue_in_transaction
from billingdesk.gateways.interface import Connector
from billingdesk.gateways.models import GatewayAccount, WebhookEvent
from billingdesk.gateways.registry import connector_for

# Request headers never kept with a stored event.
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}

# How long a web process keeps an account's secret and connector. Whether the account still
# exists and is active is read live with every delivery; only a secret changed in another
# process takes up to this long to apply here (this process's own saves apply at once).
ENDPOINT_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Endpoint:
    account: GatewayAccount
    connector: Connector
    expires: float


_endpoints: dict[UUID, _Endpoint] = {}


def webhook_endpoint_get(account_id: UUID) -> GatewayAccount | None:
    """The active account a webhook URL names, or None; cached for a few seconds per process.

    Reading the account decrypts its credentials and webhook secret, the largest part of
    an intake request's work before the cache.
    """
    now = time.monotonic()
    endpoint = _endpoints.get(account_id)
    if endpoint is not None and endpoint.expires > now:
        return endpoint.account
    account = GatewayAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        _endpoints.pop(account_id, None)
        return None
    _endpoints[account_id] = _Endpoint(
        account, connector_for(account), now + ENDPOINT_CACHE_SECONDS
    )
    return account


def _forget_endpoint(sender: Any, instance: GatewayAccount, **kwargs: Any) -> None:
    _endpoints.pop(instance.pk, None)


post_save.connect(_forget_endpoint, sender=GatewayAccount, dispatch_uid="webhook-endpoint-save")
post_delete.connect(_forget_endpoint, sender=GatewayAccount, dispatch_uid="webhook-endpoint-del")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    status_code: int
    message: str


class _AccountGone(Exception):
    """The account was deleted or deactivated since the caller looked it up."""


def webhook_receive(
    *,
    account: GatewayAccount,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str | None = None,
) -> IntakeResult:
    """Store one delivery and have it processed; say what to answer the gateway.

    The signature is checked first (CPU only, microseconds), then the raw request is stored
    with its outcome in one transaction of a few statements (see ``_store``). Nothing is
    acknowledged before it is stored, so a crash in between only means the gateway delivers
    again. A rejected delivery (anyone can send one) is kept bounded, and at most
    ``WEBHOOK_REJECTED_PER_MINUTE`` per ``source_ip`` and account (see ``_store_rejected``).
    """
    kept = {k.lower(): v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
    endpoint = _endpoints.get(account.pk)
    connector = (
        endpoint.connector
        if endpoint is not None and endpoint.account is account
        else connector_for(account)
    )
    try:
        connector.verify_webhook(headers=kept, body=body)
        envelope = connector.read_delivery(headers=kept, body=body)
    except (SignatureInvalid, MalformedPayload) as exc:
        try:
            return _store_rejected(account, kept, body, source_ip, exc.message)
        except _AccountGone:
            return _gone(account)
    event_id, event_type = envelope.id[:255], envelope.type[:120]
    try:
        _store(
            account,
            kept,
            body,
            WebhookEvent.Status.PENDING,
            event_id=event_id,
            event_type=event_type,
        )
    except IntegrityError:
        _store(
            account,
            kept,
            body,
            WebhookEvent.Status.DUPLICATE,
            event_id=event_id,
            event_type=event_type,
        )
        return IntakeResult(200, "duplicate delivery, already received")
    except _AccountGone:
        return _gone(account)
    return IntakeResult(200, "received")


def _client_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _store_rejected(
    account: GatewayAccount,
    headers: dict[str, str],
    body: bytes,
    source_ip: str | None,
    reason: str,
) -> IntakeResult:
    """Keep a bounded record of a rejected delivery, unless its sender is over the limit.

    Kept for investigation (what was sent, and by whom): the headers, the first
    ``WEBHOOK_REJECTED_KEEP_BYTES`` of the body, its size and SHA-256. Beyond
    ``WEBHOOK_REJECTED_PER_MINUTE`` rejections from one address for one account in the last
    minute, nothing is stored and the answer is 429: an unsigned flood cannot fill the
    disk. Only rejections count, so a gateway's signed deliveries are never limited.
    """
    address = _client_address(source_ip)
    limit = settings.WEBHOOK_REJECTED_PER_MINUTE
    since = timezone.now() - timedelta(minutes=1)
    recent = WebhookEvent.objects.filter(
        account=account,
        status=WebhookEvent.Status.REJECTED,
        source_ip=address,
        received_at__gte=since,
    )
    if limit <= 0 or recent[:limit].count() >= limit:
        return IntakeResult(429, "too many rejected deliveries; slow down")
    _store(
        account,
        headers,
        body[: max(settings.WEBHOOK_REJECTED_KEEP_BYTES, 0)],
        WebhookEvent.Status.REJECTED,
        error=reason,
        body_size=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
        source_ip=address,
    )
    return IntakeResult(400, reason)


def _gone(account: GatewayAccount) -> IntakeResult:
    _endpoints.pop(account.pk, None)
    return IntakeResult(404, "unknown webhook endpoint")


# The columns intake writes, in the order of its INSERT.
_INSERTED = (
    "account",
    "received_at",
    "headers",
    "body",
    "status",
    "event_id",
    "event_type",
    "attempts",
    "error",
    "body_size",
    "body_sha256",
    "source_ip",
)


@cache
def _field(name: str) -> Field[Any, Any]:
    field = WebhookEvent._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _store(
    account: GatewayAccount,
    headers: dict[str, str],
    body: bytes,
    status: WebhookEvent.Status,
    *,
    event_id: str = "",
    event_type: str = "",
    error: str = "",
    body_size: int | None = None,
    body_sha256: str = "",
    source_ip: str | None = None,
) -> None:
    """Insert one event; for a pending one, request a drain of its account. One transaction.

    Hand-written SQL (``core.sql.intake_sql``; values still adapted by the model's fields)
    because this runs for
    every delivery and the ORM's query building was most of its cost. The account row is
    read first, under ``FOR KEY SHARE`` on PostgreSQL: the drain takes ``FOR UPDATE`` on it
    before clearing the flag, so it waits for intakes in flight and then sees their events
    (SQLite serialises write transactions anyway). On PostgreSQL, while a drain is queued,
    the read and the insert are one statement in autocommit (BEGIN and COMMIT were half of
    the round trips); otherwise, or when it stores nothing, the transaction below decides.
    Raises IntegrityError for an event id already stored, _AccountGone when the account no
    longer takes webhooks.
    """
    db = transaction.get_connection()
    # Only the values that need it go through their field's adaptation for this database
    # (UUID, datetime, JSON, bytes); the text and number columns are passed as they are.
    account_id = _field("account").get_db_prep_save(account.pk, db)
    params = [
        account_id,
        _field("received_at").get_db_prep_save(timezone.now(), db),
        _field("headers").get_db_prep_save(headers, db),
        _field("body").get_db_prep_save(body, db),
        status.value,
        event_id,
        event_type,
        0,
        error,
        body_size,
        body_sha256,
        source_ip,
    ]
    read, insert, flag, insert_if_queued = sql.intake_sql(
        db.alias, WebhookEvent, GatewayAccount, _INSERTED
    )
    if insert_if_queued and status == WebhookEvent.Status.PENDING:
        # Inside a caller's transaction, a savepoint keeps a duplicate's error contained.
        scope = transaction.atomic() if db.in_atomic_block else nullcontext()
        with scope:
            if sql.insert_prepared(db, insert_if_queued, [*params, account_id]) == 1:
                return
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(read, [account_id])
        row = cursor.fetchone()
        if row is None or not row[0]:
            raise _AccountGone
        cursor.execute(insert, params)
        if status != WebhookEvent.Status.PENDING or row[1]:
            return
        cursor.execute(flag, [True, account_id, False])
        if cursor.rowcount == 1:
            # The job lives in the package (its stored import path); imported here, once
            # per drain, since the package imports this module.
            from billingdesk.gateways.webhooks import webhook_account_drain

            enqueue_in_transaction(
                webhook_account_drain,
                str(account.pk),
                delay=settings.WEBHOOK_DRAIN_DELAY_SECONDS,
            )
