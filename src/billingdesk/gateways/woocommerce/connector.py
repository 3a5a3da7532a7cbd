"""The WooCommerce connector: what billingdesk can do with a WooCommerce shop, and how.

Connect: the shop's site URL, a REST API key pair (WooCommerce → Settings → Advanced → REST
API, Read/Write) and the webhook secret; ``check_credentials`` reads one customer, so wrong
keys are refused before anything is saved (credentials are stored encrypted like every
account's). HTTP Basic over HTTPS, OAuth 1.0a over plain HTTP (``client``).

Backfill walks customers, coupons, subscriptions and orders, each ``orderby=id&order=asc``
with ``page``/``per_page`` and WooCommerce's ``X-WP-TotalPages``; the cursor names the page
and the ``modified_after`` the run started with, so a resumed run asks for the same listing
and goes on at the page it stopped at. Orders, coupons and subscriptions are incremental:
after a finished run, the next one asks only for what was modified since that run started
(less ``INCREMENTAL_MARGIN`` for clocks and slow saves); customers cannot be filtered by
date in WooCommerce and are read whole. Refunds come with their orders (an order lists its
refunds), so they cost no calls of their own. Subscriptions are read only where the
Subscriptions extension answers: without it the route is missing (404 ``rest_no_route``) and
the run records the kind as skipped, with the reason.

Webhooks: ``X-WC-Webhook-Signature`` is the base64 HMAC-SHA256 of the raw body keyed with the
webhook's secret, compared in constant time; the topic is ``X-WC-Webhook-Topic``
(``order.updated``, ``customer.created``, ``coupon.deleted``, ``subscription.updated``…).
WooCommerce signs neither a time nor a nonce, so a delivery cannot be refused as stale: the
event id is a digest of the signed body, and a replay is recorded as a duplicate and applied
once. When a webhook is saved active WooCommerce sends an unsigned ping, the form body
``webhook_id=<n>``, and disables the webhook unless it is answered 200: it is accepted (it
carries nothing) and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from billingdesk.core.errors import InvalidRequest, MalformedPayload, NotFound, SignatureInvalid
from billingdesk.gateways import interface as gw
from billingdesk.gateways.woocommerce import client, mapping
from billingdesk.gateways.woocommerce.actions import NO_SUBSCRIPTIONS, WooCommerceActions

INCREMENTAL_MARGIN = timedelta(hours=1)
_MAX_BODY = 2_000_000
_PING = re.compile(rb"webhook_id=(\d{1,20})")
_PATHS: dict[gw.ObjectKind, str] = {
    gw.ObjectKind.CUSTOMER: "/customers",
    gw.ObjectKind.COUPON: "/coupons",
    gw.ObjectKind.SUBSCRIPTION: "/subscriptions",
    gw.ObjectKind.CHARGE: "/orders",
}
_INCREMENTAL = frozenset({gw.ObjectKind.COUPON, gw.ObjectKind.SUBSCRIPTION, gw.ObjectKind.CHARGE})
# What a created/updated body of each resource must hold to be one.
_RESOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "email"),
    "order": ("id", "currency", "line_items"),
    "coupon": ("id", "code"),
    "subscription": ("id", "currency", "billing_period"),
}


MAX_PER_PAGE = 100  # WordPress's largest per_page


@dataclass(frozen=True, slots=True)
class _Cursor:
    page: int
    since: str  # modified_after, "" for everything

    def text(self) -> str:
        return json.dumps({"page": self.page, "since": self.since})

    @classmethod
    def parse(cls, cursor: str) -> _Cursor:
        try:
            data = json.loads(cursor)
            page, since = int(data["page"]), str(data["since"])
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(f"not a WooCommerce backfill cursor: {cursor!r}") from None
        if page < 1:
            raise InvalidRequest(f"not a WooCommerce backfill cursor: {cursor!r}")
        return cls(page, since)


def signature(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature`` of a body: base64(HMAC-SHA256(secret, raw body))."""
    return b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WooCommerceConnector(WooCommerceActions):
    kind = "woocommerce"
    display_name = "WooCommerce"
    capabilities = frozenset(
        {
            gw.Capability.BACKFILL,
            gw.Capability.WEBHOOKS,
            gw.Capability.REFUND,
            gw.Capability.PARTIAL_REFUND,
            gw.Capability.CANCEL_SUBSCRIPTION,
            gw.Capability.PAUSE_SUBSCRIPTION,
            gw.Capability.CANCEL_AT_PERIOD_END,
            gw.Capability.APPLY_COUPON,
            gw.Capability.PAYMENT_REQUEST,
            gw.Capability.FETCH,
        }
    )
    credential_fields = ("site_url", "consumer_key", "consumer_secret")
    plain_credential_fields: ClassVar[dict[str, str]] = {
        "site_url": "The shop's address, e.g. https://shop.example (HTTPS strongly advised).",
        "consumer_key": "ck_… from WooCommerce → Settings → Advanced → REST API (Read/Write).",
    }
    backfill_kinds: ClassVar[tuple[gw.ObjectKind, ...]] = (
        gw.ObjectKind.CUSTOMER,
        gw.ObjectKind.COUPON,
        gw.ObjectKind.SUBSCRIPTION,  # only where the Subscriptions extension is installed
        gw.ObjectKind.CHARGE,  # orders, with their refunds
    )
    signature_header = "X-WC-Webhook-Signature"
    # Objects a backfill page asks for: WordPress lists at most 100 a request, so a page of
    # 200 is two requests, and the mirror is written in half as many batches.
    page_size: ClassVar[int] = 200

    def __init__(self, account: Any) -> None:
        super().__init__(account)
        self._first: dict[gw.ObjectKind, tuple[_Cursor, client.Response]] = {}

    # --- backfill ------------------------------------------------------------------------
    def _since(self) -> str:
        from billingdesk.gateways.models import SyncRun

        last = (
            SyncRun.objects.filter(account=self.account, status=SyncRun.Status.DONE)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        if last is None:
            return ""
        return (last - INCREMENTAL_MARGIN).strftime("%Y-%m-%dT%H:%M:%S")

    def _listing(self, kind: gw.ObjectKind, at: _Cursor) -> client.Response:
        params: dict[str, Any] = {
            "page": at.page,
            "per_page": self._per_page(),
            "orderby": "id",
            "order": "asc",
        }
        if kind is gw.ObjectKind.CUSTOMER:
            params["role"] = "all"
        if at.since and kind in _INCREMENTAL:
            params["modified_after"] = at.since
        try:
            return self.api.request("GET", _PATHS[kind], params=params)
        except NotFound as exc:
            if kind is gw.ObjectKind.SUBSCRIPTION and exc.code == "no_route":
                raise NotFound(NO_SUBSCRIPTIONS) from None
            raise

    def _start(self, kind: gw.ObjectKind) -> _Cursor:
        return _Cursor(1, self._since() if kind in _INCREMENTAL else "")

    def _per_page(self) -> int:
        return max(1, min(self.page_size, MAX_PER_PAGE))

    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        """The next ``page_size`` objects: as many WordPress pages as that takes."""
        if kind not in _PATHS:
            return gw.Page(objects=[], next_cursor=None)
        at = _Cursor.parse(cursor) if cursor else self._start(kind)
        per_page = self._per_page()
        items: list[Any] = []
        following: _Cursor | None = at
        while following is not None and len(items) + per_page <= self.page_size:
            first = self._first.pop(kind, None)
            answer = (
                first[1]
                if first is not None and first[0] == following
                else self._listing(kind, following)
            )
            got = answer.data if isinstance(answer.data, list) else []
            items.extend(got)
            pages = answer.header_int("X-WP-TotalPages")
            more = following.page < pages if pages is not None else len(got) >= per_page
            following = _Cursor(following.page + 1, at.since) if more and got else None
        objects = self._map(kind, items, self._now())
        return gw.Page(objects=objects, next_cursor=following.text() if following else None)

    def estimate_total(self, kind: gw.ObjectKind) -> int | None:
        """``X-WP-Total`` of the first page, which the first ``list_page`` then reuses."""
        if kind not in _PATHS:
            return None
        at = self._start(kind)
        try:
            answer = self._listing(kind, at)
        except NotFound:
            return None  # the listing itself will say why it is skipped
        self._first[kind] = (at, answer)
        return answer.header_int("X-WP-Total")

    def _map(
        self, kind: gw.ObjectKind, items: list[Any], fetched: datetime
    ) -> list[gw.GatewayObject]:
        currency = self.account.default_currency or ""
        objects: list[gw.GatewayObject] = []
        for item in items:
            if kind is gw.ObjectKind.CUSTOMER:
                objects.append(mapping.customer(item, fetched))
            elif kind is gw.ObjectKind.COUPON:
                objects.append(mapping.coupon(item, currency, fetched))
            elif kind is gw.ObjectKind.SUBSCRIPTION:
                objects.append(mapping.subscription(item, fetched))
            else:
                objects.extend(mapping.order_bundle(item, fetched))
        return objects

    # --- webhooks ------------------------------------------------------------------------
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        given = _header(headers, "x-wc-webhook-signature")
        if not given:
            if _PING.fullmatch(body):
                return  # WooCommerce's ping on saving a webhook is not signed
            raise SignatureInvalid("missing X-WC-Webhook-Signature")
        secret = self.account.webhook_secret or ""
        if not secret:
            raise SignatureInvalid("this account has no webhook secret to check against")
        if len(body) > _MAX_BODY:
            raise SignatureInvalid("body too large for a WooCommerce webhook")
        expected = signature(body, secret)
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise SignatureInvalid("X-WC-Webhook-Signature does not match the body")

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        """Without the delivery's headers the topic is told from the body's shape."""
        ping = _PING.fullmatch(body)
        if ping:
            return gw.EventEnvelope(id=f"wc_ping_{ping.group(1).decode()}", type="ping")
        data = _json(body)
        return gw.EventEnvelope(id=_event_id(body), type=_topic_of(data))

    def read_delivery(self, *, headers: Mapping[str, str], body: bytes) -> gw.EventEnvelope:
        ping = _PING.fullmatch(body)
        if ping and not _header(headers, "x-wc-webhook-signature"):
            return gw.EventEnvelope(id=f"wc_ping_{ping.group(1).decode()}", type="ping")
        topic = _header(headers, "x-wc-webhook-topic").strip().lower()
        data = _json(body)
        if not topic:
            topic = _topic_of(data)
        _check_resource(topic, data)
        return gw.EventEnvelope(id=_event_id(body), type=topic)

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        return self.parse_delivery(body, event_type=self.read_envelope(body).type)

    def parse_delivery(self, body: bytes, *, event_type: str) -> gw.ParsedEvent:
        fetched = self._now()
        if event_type == "ping":
            return gw.ParsedEvent(id=self.read_envelope(body).id, type="ping", created=fetched,
                                  objects=[])  # fmt: skip
        data = _json(body)
        _check_resource(event_type, data)
        resource, _, action = event_type.partition(".")
        objects: list[gw.GatewayObject] = []
        currency = self.account.default_currency or ""
        if action == "deleted":
            if resource == "customer":
                objects = [gw.GwCustomer(id=str(data["id"]), updated=fetched, deleted=True)]
            elif resource == "coupon":
                objects = [gw.GwCoupon(id=str(data["id"]), updated=fetched, deleted=True)]
            # A deleted (trashed) order or subscription keeps its mirrored payment history.
        elif resource == "customer":
            objects = [mapping.customer(data, fetched)]
        elif resource == "order":
            objects = mapping.order_bundle(data, fetched)
        elif resource == "coupon":
            objects = [mapping.coupon(data, currency, fetched)]
        elif resource == "subscription":
            objects = [mapping.subscription(data, fetched)]
        created = objects[0].updated if objects else fetched
        return gw.ParsedEvent(id=_event_id(body), type=event_type, created=created, objects=objects)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return str(value or "")


def _event_id(body: bytes) -> str:
    return f"wc_{hashlib.sha256(body).hexdigest()[:40]}"


def _json(body: bytes) -> dict[str, Any]:
    if len(body) > _MAX_BODY:
        raise MalformedPayload("body too large for a WooCommerce webhook")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("a WooCommerce webhook body must be JSON") from None
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        raise MalformedPayload("a WooCommerce webhook body must be an object with an id")
    if not isinstance(data["id"], int | str):
        raise MalformedPayload("a WooCommerce object id must be a number or text")
    return data


def _topic_of(data: Mapping[str, Any]) -> str:
    if "billing_period" in data:
        return "subscription.updated"
    if "line_items" in data:
        return "order.updated"
    if "discount_type" in data:
        return "coupon.updated"
    if "role" in data or "username" in data:
        return "customer.updated"
    return "unknown"


def _check_resource(topic: str, data: Mapping[str, Any]) -> None:
    """Refuse a body that is not the resource its topic names (a deletion carries its id)."""
    resource, _, action = topic.partition(".")
    needed = _RESOURCE_FIELDS.get(resource)
    if needed is None or action == "deleted":
        return  # a topic billingdesk does not map (product.*, action.*): kept, ignored
    missing = [f for f in needed if f not in data]
    if missing:
        raise MalformedPayload(f"a WooCommerce {topic} body without {', '.join(missing)}")
