"""The PayPal connector: what billingdesk can do with a PayPal business account, and how.

Everything goes through ``client.PayPalApi`` (REST v1/v2 with ``requests``; OAuth2 client
credentials, token cached per account, ``PayPal-Request-Id`` on every write).

Backfill reads Transaction Search (``GET /v1/reporting/transactions``), which answers at most
31 days at a time and keeps three years: windows of 31 days walk from three years before the
run up to the run's start, oldest first, and each window is paged (``page``/``page_size``,
500 rows at most). The cursor names the window and the page, so a resumed run reads the same
page again. A page gives the payers (customers: payer id, email, name — what person matching
uses), the payments (captures), their refunds and the authorisations. A capture's refunded
amount is exact: refunds come after their capture, so they are in its page or a later one;
a refund whose capture is on an earlier page has the capture's order read back (payer, every
capture and refund). Subscriptions named by the page's subscription payments are read with
their plan (one call each, plans once per run), disputes through the Customer Disputes API
(``GET /v1/customer/disputes``, paged by ``next_page_token``; each one read in full for the
payment it disputes). Calls grow with pages and windows, plus one per subscription and
dispute. Invoices come from Invoicing v2 (``GET /v2/invoicing/invoices``, pages from 1;
a 403 means the merchant does not use it), each with its recipient as a customer by
email. PayPal's reporting lags (up to a few hours): webhooks bring what is newer.

Webhooks are verified offline (``verify.verify_offline``: the certificate at
``PAYPAL-CERT-URL``, PayPal hosts only, chain checked, cached); when the certificate cannot be
fetched and ``PAYPAL_WEBHOOK_POSTBACK_FALLBACK`` is on, PayPal's own
``verify-webhook-signature`` postback decides. Capture, authorisation and refund events
read the payment's order back (the event's resource holds no payer); checkout order,
subscription, dispute and ``INVOICING.INVOICE.*`` events carry what the mirror needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from billingdesk.core.errors import (
    BillingdeskError,
    InvalidRequest,
    MalformedPayload,
    NotFound,
    OperationalError,
    PermissionDenied,
    SignatureInvalid,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.paypal import mapping, verify
from billingdesk.gateways.paypal.actions import PayPalActions

WINDOW = timedelta(days=31)
HISTORY = timedelta(days=3 * 365)  # Transaction Search keeps three years
_MAX_BODY = 1_000_000
JSON = dict[str, Any]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    until: datetime  # the run's end: windows go on to here
    page: int = 1

    @property
    def end(self) -> datetime:
        return min(self.start + WINDOW, self.until)

    def cursor(self) -> str:
        return json.dumps(
            {"from": self.start.isoformat(), "until": self.until.isoformat(), "page": self.page}
        )

    @classmethod
    def parse(cls, cursor: str) -> _Window:
        try:
            data = json.loads(cursor)
            return cls(
                start=datetime.fromisoformat(data["from"]),
                until=datetime.fromisoformat(data["until"]),
                page=int(data["page"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(f"not a PayPal backfill cursor: {cursor!r}") from None


class PayPalConnector(PayPalActions):
    kind = "paypal"
    display_name = "PayPal"
    capabilities = frozenset(
        {
            gw.Capability.BACKFILL,
            gw.Capability.WEBHOOKS,
            gw.Capability.REFUND,
            gw.Capability.PARTIAL_REFUND,
            gw.Capability.CAPTURE,
            gw.Capability.PARTIAL_CAPTURE,
            gw.Capability.VOID,
            gw.Capability.CANCEL_SUBSCRIPTION,
            gw.Capability.PAUSE_SUBSCRIPTION,
            gw.Capability.CREATE_SUBSCRIPTION,
            gw.Capability.PAYMENT_REQUEST,
            gw.Capability.SEND_INVOICE,
        }
    )
    credential_fields = ("client_id", "client_secret", "environment", "webhook_id")
    plain_credential_fields: ClassVar[dict[str, str]] = {
        "client_id": "From the app's page in the PayPal Developer Dashboard.",
        "environment": "sandbox or live",
        "webhook_id": "The id of the webhook you added to the app for this account's URL.",
    }
    backfill_kinds: ClassVar[tuple[gw.ObjectKind, ...]] = (
        gw.ObjectKind.CUSTOMER,  # Transaction Search: payers, captures, refunds, subscriptions
        gw.ObjectKind.INVOICE,  # Invoicing v2, where the merchant uses it
        gw.ObjectKind.DISPUTE,
    )
    signature_header = "PAYPAL-TRANSMISSION-SIG"
    page_size: ClassVar[int] = 500  # Transaction Search's largest page
    dispute_page_size: ClassVar[int] = 50
    invoice_page_size: ClassVar[int] = 100  # Invoicing's largest page

    # --- backfill ------------------------------------------------------------------------
    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        if kind is gw.ObjectKind.CUSTOMER:
            return self._transactions_page(cursor)
        if kind is gw.ObjectKind.DISPUTE:
            return self._disputes_page(cursor)
        if kind is gw.ObjectKind.INVOICE:
            return self._invoices_page(cursor)
        return gw.Page(objects=[], next_cursor=None)

    def _invoices_page(self, cursor: str | None) -> gw.Page:
        """One page of ``GET /v2/invoicing/invoices`` (pages from 1, newest first); the
        cursor is the next page's number. A merchant who does not use PayPal Invoicing (the
        app lacks the permission: 403) has no invoices to mirror."""
        try:
            page = int(cursor) if cursor else 1
        except ValueError:
            raise InvalidRequest(f"not a PayPal invoice cursor: {cursor!r}") from None
        try:
            answer = self.api.get(
                "/v2/invoicing/invoices",
                {"page": page, "page_size": self.invoice_page_size, "total_required": "true"},
                what="list invoices",
            )
        except PermissionDenied:
            return gw.Page(objects=[], next_cursor=None)
        fetched = self._now()
        objects: list[gw.GatewayObject] = []
        for item in answer.get("items") or []:
            if isinstance(item, dict) and item.get("id"):
                objects.extend(mapping.invoice(item, fetched))
        more = page < int(answer.get("total_pages") or 1) or bool(mapping.link(answer, "next"))
        return gw.Page(objects=objects, next_cursor=str(page + 1) if more and objects else None)

    def _transactions_page(self, cursor: str | None) -> gw.Page:
        fetched = self._now()
        if cursor:
            window = _Window.parse(cursor)
        else:
            window = _Window(start=fetched - HISTORY, until=fetched)
        while True:
            answer = self.api.get(
                "/v1/reporting/transactions",
                {
                    "start_date": _iso(window.start),
                    "end_date": _iso(window.end),
                    "fields": "transaction_info,payer_info",
                    "page_size": self.page_size,
                    "page": window.page,
                },
                what="search transactions",
            )
            details = answer.get("transaction_details") or []
            following: _Window | None
            if window.page < int(answer.get("total_pages") or 1):
                following = _Window(window.start, window.until, window.page + 1)
            elif window.end < window.until:
                following = _Window(window.end + timedelta(seconds=1), window.until)
            else:
                following = None
            if details or following is None:
                objects = self._search_objects(details, fetched)
                return gw.Page(
                    objects=objects, next_cursor=following.cursor() if following else None
                )
            window = following  # an empty window: on to the next one, in this page

    def _search_objects(self, details: list[JSON], fetched: datetime) -> list[gw.GatewayObject]:
        objects, refunded, subscriptions = mapping.search_rows(details, fetched)
        here = {o.id for o in objects if isinstance(o, gw.GwCharge)}
        for capture_id in sorted(set(refunded) - here):
            # A refund of a capture on an earlier page: the capture's order has them all.
            try:
                capture = self.api.get(
                    f"/v2/payments/captures/{capture_id}", what="read the payment"
                )
                objects.extend(self._capture_state(capture))
            except NotFound:
                continue
        for sub_id in sorted(subscriptions):
            try:
                objects.extend(self.subscription_objects(self._subscription(sub_id)))
            except NotFound:
                continue
        return objects

    def _disputes_page(self, cursor: str | None) -> gw.Page:
        params: dict[str, Any] = {"page_size": self.dispute_page_size}
        if cursor:
            params["next_page_token"] = cursor
        answer = self.api.get("/v1/customer/disputes", params, what="list disputes")
        fetched = self._now()
        objects: list[gw.GatewayObject] = []
        for item in answer.get("items") or []:
            dispute_id = str(item.get("dispute_id") or "")
            # The list holds a summary: the dispute itself names the disputed payment.
            full = self.api.get(f"/v1/customer/disputes/{dispute_id}", what="read the dispute")
            objects.append(mapping.dispute(full, fetched))
        following = mapping.link(answer, "next")
        token = (parse_qs(urlsplit(following).query).get("next_page_token") or [""])[0]
        return gw.Page(objects=objects, next_cursor=token or None)

    # --- webhooks ------------------------------------------------------------------------
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        if len(body) > _MAX_BODY:
            raise MalformedPayload("body too large for a PayPal event")
        try:
            verify.verify_offline(headers, body, self.webhook_id)
        except OperationalError as exc:
            if not getattr(settings, "PAYPAL_WEBHOOK_POSTBACK_FALLBACK", False):
                raise SignatureInvalid(f"could not verify the signature: {exc.message}") from None
            self._verify_by_postback(headers, body)

    def _verify_by_postback(self, headers: Mapping[str, str], body: bytes) -> None:
        """PayPal's ``verify-webhook-signature``: it re-serialises the event, so it is the
        fallback, not the rule."""
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SignatureInvalid("not a PayPal event (not JSON)") from None
        try:
            answer = self.api.post(
                "/v1/notifications/verify-webhook-signature",
                {
                    "auth_algo": headers.get("paypal-auth-algo", ""),
                    "cert_url": headers.get("paypal-cert-url", ""),
                    "transmission_id": headers.get("paypal-transmission-id", ""),
                    "transmission_sig": headers.get("paypal-transmission-sig", ""),
                    "transmission_time": headers.get("paypal-transmission-time", ""),
                    "webhook_id": self.webhook_id,
                    "webhook_event": event,
                },
                request_id="",
                what="verify the webhook",
                representation=False,
            )
        except BillingdeskError as exc:
            raise SignatureInvalid(f"PayPal's signature postback failed: {exc.message}") from None
        if answer.get("verification_status") != "SUCCESS":
            raise SignatureInvalid("PayPal's signature postback answered FAILURE")

    @staticmethod
    def _event(body: bytes) -> JSON:
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("not a PayPal event (not JSON)") from None
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("id"), str)
            or not isinstance(event.get("event_type"), str)
            or not event["id"]
        ):
            raise MalformedPayload("not a PayPal event (no id or event_type)")
        return event

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        event = self._event(body)
        return gw.EventEnvelope(id=event["id"], type=event["event_type"])

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        event = self._event(body)
        event_type = str(event["event_type"])
        created = mapping.when(event.get("create_time")) or self._now()
        resource = event.get("resource")
        if not isinstance(resource, dict):
            resource = {}
        try:
            objects = self._event_objects(event_type, resource)
        except KeyError as exc:
            raise MalformedPayload(f"PayPal {event_type} resource lacks {exc}") from None
        except NotFound:
            # The payment or order the event names is not readable with this app's
            # credentials (made by another app, or gone): nothing to mirror from it.
            objects = []
        return gw.ParsedEvent(id=event["id"], type=event_type, created=created, objects=objects)

    def _event_objects(self, event_type: str, resource: JSON) -> list[gw.GatewayObject]:
        fetched = self._now()
        if event_type.startswith("CHECKOUT.ORDER."):
            return mapping.order_bundle(resource, fetched)
        if event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            # The resource is the refund; its ``up`` link names the capture.
            capture_id = mapping.link(resource, "up").rstrip("/").rsplit("/", 1)[-1]
            refund = mapping.refund(resource, fetched)
            if not capture_id:
                return [refund]
            capture = self.api.get(f"/v2/payments/captures/{capture_id}", what="read the payment")
            objects = self._capture_state(capture)
            return objects if any(o.id == refund.id for o in objects) else [*objects, refund]
        if event_type.startswith("PAYMENT.CAPTURE."):
            order_id = mapping.related(resource, "order_id")
            return self._order(order_id) if order_id else []
        if event_type.startswith("PAYMENT.AUTHORIZATION."):
            return self._after_authorization(resource)
        if event_type.startswith("BILLING.SUBSCRIPTION."):
            return self.subscription_objects(resource)
        if event_type.startswith("CUSTOMER.DISPUTE."):
            return [mapping.dispute(resource, fetched)]
        if event_type.startswith("INVOICING.INVOICE."):
            # The resource is the invoice (some deliveries wrap it as ``{"invoice": …}``).
            wrapped = resource.get("invoice")
            invoice: JSON = wrapped if isinstance(wrapped, dict) else resource
            if not invoice.get("id"):
                raise KeyError("id")
            return mapping.invoice(invoice, fetched)
        return []
