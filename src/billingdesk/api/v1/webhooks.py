"""Outgoing webhook endpoints through the API (scope ``admin``): what the admin pages do.

Create (the signing secret is in that answer only), list, read, change (URL, event types,
description, on/off: turning an endpoint back on forgets why it was turned off), delete,
rotate the secret (the old one still signs for 24 h), read the delivery log and replay a
delivery (same ``webhook-id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from billingdesk.api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from billingdesk.api.v1 import schemas as s
from billingdesk.api.v1.auth import ADMIN
from billingdesk.api.v1.errors import ERRORS
from billingdesk.api.webhooks.services import (
    delivery_replay,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_update,
)
from billingdesk.core.errors import NotFound

router = Router(auth=ADMIN, tags=["webhooks"])
EventType = Annotated[
    str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._*]+$", examples=["charge.*"])
]


class EndpointIn(Schema):
    url: str = Field(..., min_length=1, max_length=2000)
    event_types: list[EventType] = Field(
        default_factory=list, max_length=50, description='e.g. ["charge.*"]; empty = all'
    )
    description: str = Field("", max_length=300)


class EndpointPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=2000)
    event_types: list[EventType] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=300)
    is_active: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str
    failing_since: datetime | None
    previous_secret_until: datetime | None
    created_at: datetime


class EndpointSecretOut(EndpointOut):
    secret: str = Field(..., description="whsec_…: shown in this answer only")


class EndpointPage(Schema):
    items: list[EndpointOut]
    next_cursor: str | None


class AttemptOut(Schema):
    at: datetime
    request_headers: dict[str, str]
    status_code: int | None
    response_body: str
    latency_ms: int
    error: str


class DeliveryOut(Schema):
    id: int
    endpoint: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime
    log: list[AttemptOut]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryFilters(s.PageParams):
    status: WebhookDelivery.Status | None = None


def endpoint_out(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.pk, "url": e.url, "description": e.description, "event_types": e.event_types,
        "is_active": e.is_active, "disabled_reason": e.disabled_reason,
        "failing_since": e.failing_since, "previous_secret_until": e.previous_until,
        "created_at": e.created_at,
    }  # fmt: skip


def delivery_out(d: WebhookDelivery, log: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": d.pk, "endpoint": d.endpoint_id, "msg_id": d.message.msg_id,
        "event_type": d.message.event_type, "status": d.status, "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at, "delivered_at": d.delivered_at,
        "created_at": d.created_at,
        "log": [
            {"at": a.at, "request_headers": a.request_headers, "status_code": a.status_code,
             "response_body": a.response_body, "latency_ms": a.latency_ms, "error": a.error}
            for a in log
        ],
    }  # fmt: skip


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if found is None:
        raise NotFound(f"No webhook endpoint with id {endpoint_id}.")
    return found


@router.get("/webhooks/endpoints", response={200: EndpointPage, **ERRORS}, summary="Endpoints")
def endpoints_list(request: HttpRequest, f: Query[s.PageParams]) -> dict[str, Any]:
    found, cursor = s.page_of(WebhookEndpoint.objects.all(), f)
    return {"items": [endpoint_out(e) for e in found], "next_cursor": cursor}


@router.post(
    "/webhooks/endpoints", response={201: EndpointSecretOut, **ERRORS}, summary="Add an endpoint"
)
def endpoints_create(request: HttpRequest, body: EndpointIn) -> Status[dict[str, Any]]:
    made = endpoint_create(url=body.url, event_types=body.event_types, description=body.description)
    return Status(201, {**endpoint_out(made), "secret": str(made.secret)})


@router.get(
    "/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="One"
)
def endpoint_detail(request: HttpRequest, endpoint_id: s.Id) -> dict[str, Any]:
    return endpoint_out(_endpoint(endpoint_id))


@router.patch(
    "/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS}, summary="Change"
)
def endpoint_change(request: HttpRequest, endpoint_id: s.Id, body: EndpointPatch) -> Any:
    endpoint = _endpoint(endpoint_id)
    changed = endpoint_update(
        endpoint=endpoint, url=body.url,
        event_types=body.event_types,
        description=body.description, is_active=body.is_active,
    )  # fmt: skip
    return endpoint_out(changed)


@router.delete(
    "/webhooks/endpoints/{endpoint_id}", response={204: None, **ERRORS}, summary="Delete"
)
def endpoint_delete(request: HttpRequest, endpoint_id: s.Id) -> HttpResponse:
    _endpoint(endpoint_id).delete()
    return HttpResponse(status=204)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate",
    response={200: EndpointSecretOut, **ERRORS},
    summary="Rotate the signing secret",
)
def endpoint_rotate(request: HttpRequest, endpoint_id: s.Id) -> dict[str, Any]:
    endpoint = _endpoint(endpoint_id)
    secret = endpoint_rotate_secret(endpoint=endpoint)
    return {**endpoint_out(endpoint), "secret": secret}


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    summary="The delivery log",
)
def deliveries_list(
    request: HttpRequest, endpoint_id: s.Id, f: Query[DeliveryFilters]
) -> dict[str, Any]:
    rows = WebhookDelivery.objects.filter(endpoint=_endpoint(endpoint_id)).select_related("message")
    if f.status:
        rows = rows.filter(status=f.status)
    found, cursor = s.page_of(rows, f)
    logs: dict[int, list[WebhookAttempt]] = {d.pk: [] for d in found}
    for attempt in WebhookAttempt.objects.filter(delivery__in=found).order_by("at", "id"):
        logs[attempt.delivery_id].append(attempt)
    return {"items": [delivery_out(d, logs[d.pk]) for d in found], "next_cursor": cursor}


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut, **ERRORS},
    summary="Send a delivery again",
)
def delivery_resend(request: HttpRequest, delivery_id: s.Id) -> Status[dict[str, Any]]:
    delivery = WebhookDelivery.objects.select_related("message").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"No webhook delivery with id {delivery_id}.")
    delivery_replay(delivery=delivery)
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("at", "id"))
    return Status(202, delivery_out(delivery, log))
