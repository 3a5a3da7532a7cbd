"""The Braintree connector: what billingdesk can do with a Braintree merchant account, and how.

Everything goes through the official ``braintree`` SDK, with one gateway object per account
(``actions.BraintreeActions.gateway``).

Backfill searches each kind by creation date. Braintree answers a search with every matching
id first (``advanced_search_ids``) and then the objects of at most 50 ids at a time, and caps
a search at 50 000 results; so a window starts as the whole history up to the run's start and
is halved while its search is at the cap. The cursor names the window and the offset in its
ids, so a resumed run searches the same window again and goes on at the same object; the ids
of the current window are kept between pages, so calls grow with pages (one ids search per
window, then an id-list search and one fetch per 50 ids a page), not with time or objects.
Customers come with their payment methods (cards, PayPal accounts…) and the subscriptions
billed to each, subscriptions with their discounts; sales with their refunds (credit
transactions, fetched in one search a page where the page does not hold them), so a sale's
refunded amount is exact.

Webhooks are the form fields ``bt_signature`` and ``bt_payload``, verified by the SDK's
``webhook_notification.parse`` (HMAC-SHA1 keyed with the SHA-1 of the private key, compared in
constant time), and refused when the notification's signed timestamp is more than
``SIGNATURE_TOLERANCE`` away from now. Braintree gives a notification no id: the event id is a
digest of the signed payload, so a redelivery of the same notification is a duplicate.
The endpoint's ``bt_challenge`` (a GET when the webhook is added) is answered through the
SDK's ``webhook_notification.verify``.

Braintree documents: https://developer.paypal.com/braintree/docs/reference/general/searching/overview,
webhooks https://developer.paypal.com/braintree/docs/guides/webhooks/parse.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs

import braintree
from braintree.exceptions.invalid_challenge_error import InvalidChallengeError
from braintree.exceptions.invalid_signature_error import InvalidSignatureError

from billingdesk.core.errors import InvalidRequest, MalformedPayload, SignatureInvalid
from billingdesk.gateways import interface as gw
from billingdesk.gateways.braintree import mapping
from billingdesk.gateways.braintree.actions import BraintreeActions
from billingdesk.gateways.braintree.client import call

SIGNATURE_TOLERANCE = 300  # seconds, either way, as for the other gateways
# Braintree caps one search at this many results; a window at the cap is split.
SEARCH_LIMIT = 50_000
# The earliest a window starts: before Braintree's own founding.
HISTORY_FLOOR = datetime(2007, 1, 1, tzinfo=UTC)
_SEARCHED = {
    gw.ObjectKind.CUSTOMER: ("customer", braintree.CustomerSearch),
    gw.ObjectKind.CHARGE: ("transaction", braintree.TransactionSearch),
}
# A subscription notification's kind says its status, should the subject leave it out.
_KIND_STATUS = {
    "subscription_canceled": "Canceled",
    "subscription_expired": "Expired",
    "subscription_went_past_due": "Past Due",
    "subscription_went_active": "Active",
}
_MAX_BODY = 1_000_000  # a notification is a few kB; anything larger is not one


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    until: datetime  # the run's end: windows go on to here
    offset: int = 0

    def cursor(self) -> str:
        return json.dumps(
            {
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "until": self.until.isoformat(),
                "at": self.offset,
            }
        )

    @classmethod
    def parse(cls, cursor: str) -> _Window:
        try:
            data = json.loads(cursor)
            return cls(
                start=datetime.fromisoformat(data["from"]),
                end=datetime.fromisoformat(data["to"]),
                until=datetime.fromisoformat(data["until"]),
                offset=int(data["at"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(f"not a Braintree backfill cursor: {cursor!r}") from None


class BraintreeConnector(BraintreeActions):
    kind = "braintree"
    display_name = "Braintree"
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
            gw.Capability.CREATE_SUBSCRIPTION,
            gw.Capability.APPLY_COUPON,
        }
    )
    credential_fields = ("merchant_id", "public_key", "private_key", "environment")
    plain_credential_fields: ClassVar[dict[str, str]] = {
        "merchant_id": "From the Control Panel's API page.",
        "environment": "sandbox or production",
    }
    backfill_kinds: ClassVar[tuple[gw.ObjectKind, ...]] = (
        gw.ObjectKind.CUSTOMER,  # with payment methods, subscriptions, discounts
        gw.ObjectKind.COUPON,  # the discounts defined in the Control Panel
        gw.ObjectKind.CHARGE,  # sales and credits (refunds)
        gw.ObjectKind.DISPUTE,
    )
    signature_header = "bt_signature (form field)"
    # Objects a backfill page holds: an id-list search of this many, which the SDK fetches
    # 50 (Braintree's page) at a time; larger pages write the mirror in fewer batches.
    page_size: ClassVar[int] = 200

    @classmethod
    def voidable(cls, *, status: gw.ChargeStatus, amount_refunded: int) -> bool:
        """A sale submitted for settlement (captured, not settled yet) is voided, not
        refunded, at Braintree; whether it has settled is checked live when the void runs
        (a settled one is refused with "refund it instead")."""
        return status == gw.ChargeStatus.AUTHORIZED or (
            status == gw.ChargeStatus.CAPTURED and amount_refunded == 0
        )

    def __init__(self, account: Any) -> None:
        super().__init__(account)
        self._window_ids: tuple[tuple[gw.ObjectKind, datetime, datetime], list[str]] | None = None
        self._disputes: tuple[Iterator[Any], int] | None = None
        # The end of a kind's first window, once ``estimate_total`` has searched it.
        self._until: dict[gw.ObjectKind, datetime] = {}

    # --- backfill ------------------------------------------------------------------------
    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        fetched = self._now()
        if kind is gw.ObjectKind.COUPON:
            discounts = call(self.gateway.discount.all, retries=self.read_retries)
            currency = self.account.default_currency or ""
            return gw.Page(
                objects=[mapping.coupon(d, currency, fetched) for d in discounts],
                next_cursor=None,
            )
        if kind is gw.ObjectKind.DISPUTE:
            return self._disputes_page(cursor, fetched)
        if kind not in _SEARCHED:
            return gw.Page(objects=[], next_cursor=None)
        if cursor:
            window = _Window.parse(cursor)
        else:
            until = self._until.get(kind, fetched)
            window = _Window(start=HISTORY_FLOOR, end=until, until=until)
        window, ids = self._ids(kind, window)
        batch = ids[window.offset : window.offset + self.page_size]
        objects = self._objects(kind, batch, fetched) if batch else []
        following: _Window | None
        if window.offset + self.page_size < len(ids):
            following = _Window(window.start, window.end, window.until, window.offset + len(batch))
        elif window.end < window.until:
            following = _Window(window.end + timedelta(seconds=1), window.until, window.until)
        else:
            following = None
        return gw.Page(objects=objects, next_cursor=following.cursor() if following else None)

    def estimate_total(self, kind: gw.ObjectKind) -> int | None:
        """How many customers or transactions there are (the first window's id search,
        which the first page then reuses: no extra call). At the search cap the count is
        the cap: the bar then grows as windows are split."""
        if kind not in _SEARCHED:
            return None
        until = self._now()
        window, ids = self._ids(kind, _Window(HISTORY_FLOOR, until, until))
        if window.end == until:
            self._until[kind] = until
        return len(ids)

    def _search(self, kind: gw.ObjectKind) -> tuple[Any, Any]:
        resource, search = _SEARCHED[kind]
        return getattr(self.gateway, resource), search

    def _ids(self, kind: gw.ObjectKind, window: _Window) -> tuple[_Window, list[str]]:
        """The ids created in ``window`` (shrunk until under the search cap), oldest first."""
        while True:
            key = (kind, window.start, window.end)
            if self._window_ids is not None and self._window_ids[0] == key:
                return window, self._window_ids[1]
            resource, search = self._search(kind)
            found = call(
                resource.search,
                search.created_at.between(window.start, window.end),
                retries=self.read_retries,
            )
            ids = [str(i) for i in found.ids]
            if len(ids) < SEARCH_LIMIT or window.end - window.start <= timedelta(days=1):
                self._window_ids = (key, ids)
                return window, ids
            middle = window.start + (window.end - window.start) / 2
            window = _Window(window.start, middle.replace(microsecond=0), window.until)

    def _fetch(self, kind: gw.ObjectKind, ids: list[str]) -> list[Any]:
        """The objects of these ids (at most one page), in one id-list search."""
        resource, search = self._search(kind)
        found = call(resource.search, search.ids.in_list(ids), retries=self.read_retries)
        return list(found.items)

    def _objects(
        self, kind: gw.ObjectKind, ids: list[str], fetched: datetime
    ) -> list[gw.GatewayObject]:
        items = self._fetch(kind, ids)
        currency = self.account.default_currency or ""
        objects: list[gw.GatewayObject] = []
        if kind is gw.ObjectKind.CUSTOMER:
            plans = self._plans() if any(_subscribed(c) for c in items) else {}
            for item in items:
                objects.extend(mapping.customer_bundle(item, fetched, currency, plans))
            return objects
        refunds = self._refunds_of(items)
        for item in items:
            objects.extend(mapping.transaction_bundle(item, fetched, refunds, with_customer=False))
        return objects

    def _refunds_of(self, transactions: list[Any]) -> dict[str, Any]:
        """The refunds (credits) of these sales, by id: those in the page, the others
        fetched in id-list searches of a page each."""
        by_id = {str(t.id): t for t in transactions}
        wanted = [str(r) for t in transactions for r in (getattr(t, "refund_ids", None) or [])]
        missing = [r for r in wanted if r not in by_id]
        for start in range(0, len(missing), self.page_size):
            for txn in self._fetch(gw.ObjectKind.CHARGE, missing[start : start + self.page_size]):
                by_id[str(txn.id)] = txn
        return {r: by_id[r] for r in wanted if r in by_id}

    def _disputes_page(self, cursor: str | None, fetched: datetime) -> gw.Page:
        """Disputes are paged by Braintree itself (``?page=N``): the SDK's collection is
        read lazily, a page at a time, and kept between pages; the cursor counts the
        disputes read, so a resumed run reads Braintree's pages up to it again."""
        try:
            offset = int(cursor or 0)
        except ValueError:
            raise InvalidRequest(f"not a Braintree dispute cursor: {cursor!r}") from None
        if self._disputes is None or self._disputes[1] != offset:
            collection = call(
                self.gateway.dispute.search,
                braintree.DisputeSearch.received_date.between(
                    HISTORY_FLOOR.date(), (fetched + timedelta(days=1)).date()
                ),
                retries=self.read_retries,
            )
            items = iter(collection.disputes.items)
            for _ in range(offset):
                if call(next, items, None) is None:
                    break
            self._disputes = (items, offset)
        items = self._disputes[0]
        taken = list(call(lambda: list(itertools.islice(items, self.page_size + 1))))
        batch, more = taken[: self.page_size], len(taken) > self.page_size
        if more:
            # The one read ahead leads the next page.
            items = itertools.chain(taken[self.page_size :], items)
        self._disputes = (items, offset + len(batch))
        objects: list[gw.GatewayObject] = [mapping.dispute(d, fetched) for d in batch]
        return gw.Page(objects=objects, next_cursor=str(offset + len(batch)) if more else None)

    # --- webhooks ------------------------------------------------------------------------
    @staticmethod
    def _fields(body: bytes) -> tuple[str, str]:
        if len(body) > _MAX_BODY:
            raise MalformedPayload("body too large for a Braintree notification")
        try:
            fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise SignatureInvalid(
                "not a Braintree notification (form fields bt_signature and bt_payload)"
            ) from None
        signature = (fields.get("bt_signature") or [""])[0]
        payload = (fields.get("bt_payload") or [""])[0]
        if not signature or not payload:
            raise SignatureInvalid("missing bt_signature or bt_payload")
        return signature, payload

    def _notification(self, body: bytes) -> tuple[Any, str]:
        signature, payload = self._fields(body)
        try:
            notification = self.gateway.webhook_notification.parse(signature, payload)
        except InvalidSignatureError as exc:
            raise SignatureInvalid(f"Braintree signature does not verify: {exc}") from None
        except Exception as exc:
            raise MalformedPayload(
                f"signed payload is not a Braintree notification: {exc}"
            ) from None
        digest = hashlib.sha256(payload.replace("\n", "").encode("ascii")).hexdigest()
        return notification, f"bt_{digest[:40]}"

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        notification, _ = self._notification(body)
        at = mapping.when(getattr(notification, "timestamp", None))
        if at is None:
            raise MalformedPayload("Braintree notification has no timestamp")
        if abs((self._now() - at).total_seconds()) > SIGNATURE_TOLERANCE:
            raise SignatureInvalid(
                f"notification timestamp {at.isoformat()} is outside the "
                f"{SIGNATURE_TOLERANCE} s tolerance"
            )

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        notification, event_id = self._notification(body)
        return gw.EventEnvelope(id=event_id, type=str(getattr(notification, "kind", "")))

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        notification, event_id = self._notification(body)
        kind = str(getattr(notification, "kind", ""))
        created = mapping.when(getattr(notification, "timestamp", None)) or self._now()
        fetched = self._now()
        objects: list[gw.GatewayObject] = []
        currency = self.account.default_currency or ""
        if kind.startswith("subscription_") and hasattr(notification, "subscription"):
            sub = notification.subscription
            if not getattr(sub, "status", None):
                sub.status = _KIND_STATUS.get(kind, "Active")
            objects = mapping.subscription_bundle(
                sub, self._customer_of(sub), fetched, currency, self._plans()
            )
        elif kind.startswith(("transaction_", "refund_")) and hasattr(notification, "transaction"):
            txn = notification.transaction
            objects = mapping.transaction_bundle(txn, fetched, self._refunds_of([txn]))
        elif kind.startswith("dispute_") and hasattr(notification, "dispute"):
            objects = [mapping.dispute(notification.dispute, fetched)]
        elif kind == "payment_method_revoked_by_customer":
            meta = notification.revoked_payment_method_metadata
            objects = [
                gw.GwPaymentMethod(
                    id=str(meta.token),
                    updated=created,
                    customer_id=str(meta.customer_id) or None,
                    method_type="paypal",
                    deleted=True,
                )
            ]
        return gw.ParsedEvent(id=event_id, type=kind, created=created, objects=objects)

    def answer_challenge(self, params: Mapping[str, str]) -> str | None:
        challenge = params.get("bt_challenge")
        if challenge is None:
            return None
        try:
            return str(self.gateway.webhook_notification.verify(challenge))
        except InvalidChallengeError:
            raise InvalidRequest("bt_challenge must be 20 to 32 lowercase hex digits") from None


def _subscribed(customer: Any) -> bool:
    return any(getattr(m, "subscriptions", None) for m in getattr(customer, "payment_methods", []))
