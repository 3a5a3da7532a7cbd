"""Endpoints, events and deliveries (Standard Webhooks).

An event is written (``WebhookMessage``, its exact body) with one ``WebhookDelivery`` per
endpoint that wants it, in the transaction of the change it reports; the delivery job is
enqueued after commit. A delivery is sent with ``webhook-id`` (the message's, the same on
every retry), ``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256; during a secret
rotation signed with both secrets, space-separated). ``2xx`` is success; ``410 Gone`` disables
the endpoint at once; anything else (redirects included, never followed) is retried on
``API_WEBHOOK_RETRY_DELAYS`` with jitter, then given up; an endpoint that has failed for
``API_WEBHOOK_DISABLE_AFTER_DAYS`` running is disabled and the admins are emailed.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from billingdesk.api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from billingdesk.core.errors import InvalidRequest, NotAllowed
from billingdesk.core.outbound import outbound_post, signing_secret_new, url_check

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status
ROTATION_OVERLAP = timedelta(hours=24)


def event_types_clean(event_types: list[str]) -> list[str]:
    for name in event_types:
        if not name or len(name) > 60 or not all(c.isalnum() or c in "._*" for c in name):
            raise InvalidRequest(f"{name!r} is not an event type (e.g. charge.updated, charge.*)")
    return list(dict.fromkeys(event_types))


def endpoint_create(*, url: str, event_types: list[str], description: str = "") -> WebhookEndpoint:
    url_check(url)
    return WebhookEndpoint.objects.create(
        url=url, event_types=event_types_clean(event_types), description=description,
        secret=signing_secret_new(),
    )  # fmt: skip


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; turning an endpoint back on forgets why it was turned off."""
    if url is not None:
        url_check(url)
        endpoint.url = url
    if event_types is not None:
        endpoint.event_types = event_types_clean(event_types)
    if description is not None:
        endpoint.description = description
    if is_active is not None:
        if is_active and not endpoint.is_active:
            endpoint.disabled_reason, endpoint.failing_since = "", None
        endpoint.is_active = is_active
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one is still signed with for ``ROTATION_OVERLAP``."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_until = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = signing_secret_new()
    endpoint.save(update_fields=["previous_secret", "previous_until", "secret"])
    return str(endpoint.secret)


@dataclass(frozen=True)
class Event:
    event_type: str
    data: dict[str, Any]
    object_key: str = ""  # "charge:12": deliveries about one object are sent in order


def event_emit(*, event_type: str, data: dict[str, Any], object_key: str = "") -> int:
    """Store one event and its deliveries (call inside the change's transaction)."""
    return events_emit([Event(event_type, data, object_key)])


def events_emit(events: list[Event]) -> int:
    """Store events and their deliveries, in order, with one read of the endpoints and bulk
    inserts; each delivery's job joins the transaction (database queue) or follows its
    commit (other queues). The number of deliveries."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    wanted = [(event, [e for e in endpoints if e.wants(event.event_type)]) for event in events]
    wanted = [(event, targets) for event, targets in wanted if targets]
    if not wanted:
        return 0
    from billingdesk.api.webhooks.tasks import webhook_deliver_task
    from billingdesk.core.tasks import enqueue_in_transaction

    now = timezone.now()
    messages = WebhookMessage.objects.bulk_create(
        [
            WebhookMessage(
                msg_id="msg_" + uuid.uuid4().hex, event_type=event.event_type,
                object_key=event.object_key, created_at=now,
                body=json.dumps(
                    {"type": event.event_type, "timestamp": now.isoformat(), "data": event.data},
                    separators=(",", ":"), default=str,
                ),
            )
            for event, _targets in wanted
        ]
    )  # fmt: skip
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, message=message, created_at=now)
            for message, (_event, targets) in zip(messages, wanted, strict=True)
            for endpoint in targets
        ]
    )
    for delivery in deliveries:
        enqueue_in_transaction(webhook_deliver_task, delivery.pk)
    return len(deliveries)


def signature(endpoint: WebhookEndpoint, msg_id: str, at: datetime, body: str) -> str:
    signs = [Webhook(endpoint.secret).sign(msg_id, at, body)]
    if endpoint.previous_secret and endpoint.previous_until and endpoint.previous_until > at:
        signs.append(Webhook(endpoint.previous_secret).sign(msg_id, at, body))
    return " ".join(signs)


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Send one delivery now; the delay before the next try (None: done or given up)."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "message").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status in (Status.SUCCEEDED, Status.FAILED):
        return None
    endpoint, message = delivery.endpoint, delivery.message
    if not endpoint.is_active:
        _finish(delivery, Status.FAILED)
        return None
    # In order per object: an earlier event about the same object goes first.
    if message.object_key and (
        WebhookDelivery.objects.filter(
            endpoint=endpoint,
            message__object_key=message.object_key,
            status__in=(Status.PENDING, Status.RETRYING),
            message__created_at__lte=message.created_at,
        )
        .exclude(pk=delivery.pk)
        .filter(pk__lt=delivery.pk)
        .exists()
    ):
        return 2.0
    now = datetime.now(UTC)
    headers = {
        "webhook-id": message.msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(endpoint, message.msg_id, now, message.body),
    }
    status_code, text, latency, problem = None, "", 0, ""
    try:
        answer = outbound_post(
            endpoint.url, body=message.body.encode(), headers=headers,
            timeout=settings.OUTBOUND_TIMEOUT_SECONDS,
        )  # fmt: skip
        status_code, latency = answer.status, answer.latency_ms
        text = answer.body[:2000].decode("utf-8", "replace")
    except InvalidRequest as exc:
        problem = exc.message
    except requests.RequestException as exc:
        problem = f"{type(exc).__name__}: {exc}"[:500]
    logged = {k: v for k, v in headers.items() if k != "webhook-signature"}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, request_headers=logged, status_code=status_code,
            response_body=text, latency_ms=latency, error=problem,
        )  # fmt: skip
        delivery.attempts += 1
        if status_code is not None and 200 <= status_code < 300:
            delivery.delivered_at = timezone.now()
            _finish(delivery, Status.SUCCEEDED)
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            return None
        if status_code == 410:
            _finish(delivery, Status.FAILED)
            _disable(endpoint, "The endpoint answered 410 Gone.")
            return None
        if endpoint.failing_since is None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
        elif timezone.now() - endpoint.failing_since > timedelta(
            days=settings.API_WEBHOOK_DISABLE_AFTER_DAYS
        ):
            _finish(delivery, Status.FAILED)
            _disable(endpoint, "Every delivery failed for a week.", tell=True)
            return None
        delays = settings.API_WEBHOOK_RETRY_DELAYS
        if delivery.attempts > len(delays):
            _finish(delivery, Status.FAILED)
            return None
        delay = float(delays[delivery.attempts - 1]) * random.uniform(1.0, 1.2)  # noqa: S311
        delivery.status = Status.RETRYING
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        delivery.save(update_fields=["attempts", "status", "next_attempt_at"])
    return delay


def delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same webhook-id), whatever became of it, unless its endpoint
    is turned off (turn it back on first: ``NotAllowed``)."""
    from billingdesk.api.webhooks.tasks import webhook_deliver_task
    from billingdesk.core.tasks import enqueue_on_commit

    if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists():
        raise NotAllowed("This endpoint is turned off; turn it back on to send again.")

    with transaction.atomic():
        delivery.status = Status.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "next_attempt_at"])
        enqueue_on_commit(webhook_deliver_task, delivery.pk)
    return delivery


def _finish(delivery: WebhookDelivery, status: str) -> None:
    delivery.status = status
    delivery.save(update_fields=["attempts", "status", "delivered_at"])


def _disable(endpoint: WebhookEndpoint, why: str, *, tell: bool = False) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason=why)
    WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=(Status.PENDING, Status.RETRYING)
    ).update(status=Status.FAILED)
    logger.warning("webhook endpoint %s disabled: %s", endpoint.url, why)
    if tell:
        transaction.on_commit(
            lambda: mail_admins(
                "A webhook endpoint was disabled", f"{endpoint.url}: {why}", fail_silently=True
            )
        )
