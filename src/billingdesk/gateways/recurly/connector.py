"""The Recurly connector: what billingdesk can do with a Recurly site, and how.

Everything goes through the official ``recurly`` client (v4, API v2021-02-25), one client per
account (``actions.RecurlyActions.api``).

Backfill lists accounts (with their billing info and VAT number), coupons, subscriptions
(with plan, add-ons and coupon redemptions), invoices (charge and credit) and transactions
(purchases and refunds) with ``sort=updated_at&order=asc`` and ``begin_time``. The cursor is
the ``updated_at`` of the last object read and the ids read at that very second: the next page
asks from that time again (``begin_time`` is inclusive) and skips those ids, so a resumed run,
even in another process, continues where it stopped, and an object changed during the run is
read again at its new place instead of being missed. Should more objects share one second than
a page can skip, the page follows Recurly's own ``next`` link instead. A purchase's refunded
amount comes from the refund transactions (``RecurlyActions._refunded``: one listing of the
page's refund window, or one per account when that is fewer calls).

Webhooks are Recurly's JSON notifications, signed in the ``recurly-signature`` header
(``<unix ms>,<hex>[,<hex>…]``, each ``hex(HMAC-SHA256(key, "<ms>." + body))``; several during
a key rotation): one of them must match the endpoint's key (compared in constant time) and the
time must be within ``SIGNATURE_TOLERANCE``. Notifications are thin (the object's type and
id): the object is re-fetched through the API, so the mirror gets its current state.

Recurly documents: https://recurly.com/developers/api/v2021-02-25/ ,
https://docs.recurly.com/recurly-subscriptions/docs/signature-verification .
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from django.utils.translation import gettext

from billingdesk.core.errors import InvalidRequest, MalformedPayload, NotFound, SignatureInvalid
from billingdesk.core.money import day_format
from billingdesk.gateways import interface as gw
from billingdesk.gateways.recurly import client, mapping
from billingdesk.gateways.recurly.actions import (
    PAUSE_CYCLES,
    RecurlyActions,
    credit_invoice_lines,
)

SIGNATURE_HEADER = "recurly-signature"
SIGNATURE_TOLERANCE = 5 * 60 * 1000  # milliseconds, either way (Recurly's default)
_MAX_BODY = 1_000_000  # a notification is well under 1 kB
_LISTINGS = {
    gw.ObjectKind.CUSTOMER: "list_accounts",
    gw.ObjectKind.COUPON: "list_coupons",
    gw.ObjectKind.SUBSCRIPTION: "list_subscriptions",
    gw.ObjectKind.INVOICE: "list_invoices",
    gw.ObjectKind.CHARGE: "list_transactions",
}
# Notification object types, and the kind whose fetch answers them.
_OBJECT_TYPES = {
    "account": gw.ObjectKind.CUSTOMER,
    "billing_info": gw.ObjectKind.CUSTOMER,
    "subscription": gw.ObjectKind.SUBSCRIPTION,
    "charge_invoice": gw.ObjectKind.INVOICE,
    "credit_invoice": gw.ObjectKind.INVOICE,
    "invoice": gw.ObjectKind.INVOICE,
    "payment": gw.ObjectKind.CHARGE,
    "transaction": gw.ObjectKind.CHARGE,
    "coupon": gw.ObjectKind.COUPON,
}


def _cursor(at: str, seen: list[str]) -> str:
    return json.dumps({"t": at, "seen": seen})


class RecurlyConnector(RecurlyActions):
    kind = "recurly"
    display_name = "Recurly"
    capabilities = frozenset(
        {
            gw.Capability.BACKFILL,
            gw.Capability.WEBHOOKS,
            gw.Capability.REFUND,
            gw.Capability.PARTIAL_REFUND,
            gw.Capability.CANCEL_SUBSCRIPTION,
            gw.Capability.PAUSE_SUBSCRIPTION,
            gw.Capability.CANCEL_AT_PERIOD_END,
            gw.Capability.CREATE_SUBSCRIPTION,
            gw.Capability.APPLY_COUPON,
            gw.Capability.ADD_TAX_ID,
            gw.Capability.PAYMENT_REQUEST,
            gw.Capability.CARD_UPDATE,
            gw.Capability.FETCH,
            gw.Capability.VOID_INVOICE,
            gw.Capability.REACTIVATE_SUBSCRIPTION,
            gw.Capability.TERMINATE_WITH_REFUND,
        }
    )
    credential_fields = ("api_key", "region", "subdomain")
    plain_credential_fields: ClassVar[dict[str, str]] = {
        "region": "us or eu (where the site's data lives)",
        "subdomain": "The first part of your Recurly admin address (acme for acme.recurly.com).",
    }
    backfill_kinds: ClassVar[tuple[gw.ObjectKind, ...]] = (
        gw.ObjectKind.CUSTOMER,  # with billing info and VAT number
        gw.ObjectKind.COUPON,
        gw.ObjectKind.SUBSCRIPTION,  # with add-ons and coupon redemptions
        gw.ObjectKind.INVOICE,  # charge and credit invoices
        gw.ObjectKind.CHARGE,  # purchases and refunds
    )
    signature_header = SIGNATURE_HEADER
    page_size: ClassVar[int] = client.MAX_LIMIT

    @classmethod
    def preview_notes(cls, *, action: str, target: Any, params: Mapping[str, Any]) -> list[str]:
        """A refund's credit invoice; whether a cancellation ends now, without refund, or at
        term end (read from the mirror: the preview calls nobody)."""
        if action == "refund" and hasattr(target, "refundable"):
            invoice = getattr(target, "invoice", None)
            if invoice is None:
                return []
            card = (
                f"{target.card_brand} •••• {target.card_last4}" if target.card_last4 else "the card"
            )
            return credit_invoice_lines(
                str(invoice.number).removeprefix("CR-") or str(invoice.gateway_id),
                int(params.get("amount") or target.refundable),
                int(target.refundable),
                str(target.currency),
                card,
            )
        if action == "cancel_subscription":
            if params.get("at_period_end"):
                return [
                    "Recurly cancels it at the end of the term: until then it can be reactivated."
                ]
            refund = str(params.get("refund") or "none")
            if refund == "partial":
                return ["Recurly terminates it now, with a prorated refund (refund=partial)."]
            if refund == "full":
                return ["Recurly terminates it now, refunding its last invoice (refund=full)."]
            return ["Recurly terminates it now, without a refund (refund=none)."]
        if action == "pause_subscription":
            return [
                gettext(
                    "Recurly starts the pause at the next renewal (%(day)s) and resumes the "
                    "subscription by itself after %(cycles)s billing periods."
                )
                % {
                    "day": day_format(target.current_period_end)
                    if getattr(target, "current_period_end", None)
                    else "?",
                    "cycles": PAUSE_CYCLES,
                }
            ]
        return []

    # --- backfill ------------------------------------------------------------------------
    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        method = _LISTINGS.get(kind)
        if method is None:
            return gw.Page(objects=[], next_cursor=None)
        fetched = self._now()
        at, seen, following = self._parse_cursor(cursor)
        size = min(self.page_size, client.MAX_LIMIT)
        if following:
            answer = self.api.follow(following, retries=self.read_retries)
        else:
            params: dict[str, Any] = {"sort": "updated_at", "order": "asc"}
            if at:
                params["begin_time"] = at
            params["limit"] = min(size + len(seen), client.MAX_LIMIT)
            answer = self.api.page(method, params=params, retries=self.read_retries)
        items = [i for i in answer["data"] if isinstance(i, Mapping) and i.get("id")]
        skip = set(seen)
        fresh = [i for i in items if not (i.get("updated_at") == at and str(i["id"]) in skip)]
        batch = fresh[:size]
        objects = self._objects(kind, batch, fetched)
        more = bool(answer.get("has_more")) or len(fresh) > len(batch)
        if not more:
            return gw.Page(objects=objects, next_cursor=None)
        if not batch:
            # Nothing new in a full page: every object of it shares the cursor's second.
            return gw.Page(objects=objects, next_cursor=self._follow_cursor(answer, at, seen))
        last = str(batch[-1].get("updated_at"))
        same = [str(i["id"]) for i in batch if i.get("updated_at") == last]
        seen_now = (seen if last == at else []) + same
        if len(seen_now) + size > client.MAX_LIMIT and answer.get("next") and not following:
            return gw.Page(objects=objects, next_cursor=self._follow_cursor(answer, last, seen_now))
        return gw.Page(objects=objects, next_cursor=_cursor(last, seen_now))

    @staticmethod
    def _follow_cursor(answer: Mapping[str, Any], at: str, seen: list[str]) -> str:
        nxt = answer.get("next")
        if not nxt:
            raise MalformedPayload("Recurly said it has more, without a next page.")
        return json.dumps({"t": at, "seen": seen, "next": str(nxt)})

    @staticmethod
    def _parse_cursor(cursor: str | None) -> tuple[str, list[str], str]:
        if not cursor:
            return "", [], ""
        try:
            data = json.loads(cursor)
            at, seen = str(data["t"]), [str(s) for s in data["seen"]]
            return at, seen, str(data.get("next") or "")
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(f"not a Recurly backfill cursor: {cursor!r}") from None

    def _objects(
        self, kind: gw.ObjectKind, items: list[Mapping[str, Any]], fetched: datetime
    ) -> list[gw.GatewayObject]:
        objects: list[gw.GatewayObject] = []
        if kind is gw.ObjectKind.CUSTOMER:
            for item in items:
                objects.extend(mapping.customer_bundle(item, fetched))
        elif kind is gw.ObjectKind.COUPON:
            currency = self.account.default_currency or ""
            objects.extend(mapping.coupon(item, fetched, currency) for item in items)
        elif kind is gw.ObjectKind.SUBSCRIPTION:
            plans = self._plans() if items else {}
            for item in items:
                objects.extend(mapping.subscription_bundle(item, fetched, plans))
        elif kind is gw.ObjectKind.INVOICE:
            objects.extend(mapping.invoice(item, fetched) for item in items)
        else:
            refunded = self._refunded(items)
            for item in items:
                obj = mapping.transaction(item, fetched, refunded)
                if obj is not None:
                    objects.append(obj)
            # Charges first: a refund then finds its charge on insert.
            objects.sort(key=lambda o: isinstance(o, gw.GwRefund))
        return objects

    def estimate_total(self, kind: gw.ObjectKind) -> int | None:
        """The listing's size (a HEAD request answering ``Recurly-Total-Records``)."""
        method = _LISTINGS.get(kind)
        if method is None:
            return None
        return self.api.count(method, params={"sort": "updated_at", "order": "asc"})

    # --- webhooks ------------------------------------------------------------------------
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        verify_signature(
            headers.get(SIGNATURE_HEADER),
            body,
            self.account.webhook_secret or "",
            now_ms=int(time.time() * 1000),
        )

    @staticmethod
    def _notification(body: bytes) -> dict[str, Any]:
        if len(body) > _MAX_BODY:
            raise MalformedPayload("body too large for a Recurly notification")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise MalformedPayload("not a Recurly JSON notification") from None
        if not isinstance(data, dict):
            raise MalformedPayload("a Recurly notification is a JSON object")
        for field in ("id", "object_type", "event_type"):
            if not isinstance(data.get(field), str) or not data[field]:
                raise MalformedPayload(f"a Recurly notification names its {field}")
        return data

    @staticmethod
    def _event_id(data: Mapping[str, Any], body: bytes) -> str:
        uuid = data.get("uuid")
        if isinstance(uuid, str) and uuid:
            return f"rc_{uuid}"
        return "rc_" + hashlib.sha256(body).hexdigest()[:40]

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        data = self._notification(body)
        return gw.EventEnvelope(
            id=self._event_id(data, body), type=f"{data['object_type']}.{data['event_type']}"
        )

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        data = self._notification(body)
        event_type = f"{data['object_type']}.{data['event_type']}"
        created = mapping.when(data.get("event_time")) or self._now()
        event_id = self._event_id(data, body)
        kind = _OBJECT_TYPES.get(str(data["object_type"]))
        if kind is None:
            return gw.ParsedEvent(id=event_id, type=event_type, created=created, objects=[])
        object_id = str(data["id"])
        if data["object_type"] == "billing_info":
            code = data.get("account_code")
            object_id = f"code-{code}" if isinstance(code, str) and code else object_id
        try:
            objects = self.object_fetch(kind=kind, object_id=object_id)
        except NotFound:
            if kind is not gw.ObjectKind.CUSTOMER:
                raise
            # An account Recurly no longer has (deleted or redacted), as of this read.
            objects = [gw.GwCustomer(id=str(data["id"]), updated=self._now(), deleted=True)]
        return gw.ParsedEvent(id=event_id, type=event_type, created=created, objects=objects)


def signature(key: str, timestamp_ms: int, body: bytes) -> str:
    """One ``recurly-signature`` signature: hex HMAC-SHA256 of ``"<ms>." + body``."""
    message = str(timestamp_ms).encode() + b"." + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    header: str | None,
    body: bytes,
    key: str,
    *,
    now_ms: int,
    tolerance_ms: int = SIGNATURE_TOLERANCE,
) -> None:
    """Raise ``SignatureInvalid`` unless one of the header's signatures is ``key``'s and its
    time is within the tolerance."""
    if not key:
        raise SignatureInvalid("no webhook key is set for this Recurly account")
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    timestamp, *signatures = [p.strip() for p in header.split(",")]
    if not timestamp.isdigit() or not signatures:
        raise SignatureInvalid(f"malformed {SIGNATURE_HEADER} header")
    if abs(now_ms - int(timestamp)) > tolerance_ms:
        raise SignatureInvalid(
            f"notification time is outside the {tolerance_ms // 1000} s tolerance"
        )
    expected = signature(key, int(timestamp), body)
    # Every candidate is compared (no early exit), each in constant time.
    matched = [hmac.compare_digest(expected, s) for s in signatures]
    if not any(matched):
        raise SignatureInvalid("no recurly-signature matches this account's webhook key")
