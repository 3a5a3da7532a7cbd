"""The sandbox gateway as a connector: backfill pages, signed webhooks and every action.

It reads the sandbox's own tables for listings (a real connector would call the gateway's
API) and acts through ``SandboxEngine``. Actions honour idempotency keys like Stripe's
(https://docs.stripe.com/api/idempotent_requests): the first result (or decline) is stored
with a fingerprint of the parameters and replayed for a retry with the same key; the same
key with other parameters is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from billingdesk.core.errors import (
    AmountTooLarge,
    CardDeclined,
    InvalidRequest,
    MalformedPayload,
    NotAllowed,
    NotFound,
)
from billingdesk.core.parsing import json_loads
from billingdesk.core.signing import verify_header
from billingdesk.gateways.interface import (
    ActionResult,
    Capability,
    Connector,
    EventEnvelope,
    GatewayObject,
    ObjectKind,
    Page,
    ParsedEvent,
)
from billingdesk.gateways.sandbox.engine import Line, SandboxEngine
from billingdesk.gateways.sandbox.engine.base import check_amount
from billingdesk.gateways.sandbox.engine.ledger import new_id, parse_iso, snapshot
from billingdesk.gateways.sandbox.hosted import card_url
from billingdesk.gateways.sandbox.mapping import object_from
from billingdesk.gateways.sandbox.models import SandboxIdempotencyKey, SandboxObject
from billingdesk.gateways.sandbox.plans import plan_get

# What an idempotent action does with the engine; returns the URL it produced, if any.
_Act = Callable[[SandboxEngine], str]


class SandboxConnector(Connector):
    kind = "sandbox"
    display_name = "Sandbox"
    # The sandbox engine has no dispute evidence endpoint yet (issue 21 follow-up), and no
    # refund on termination (Recurly's terminate with refund=partial/full).
    capabilities = frozenset(Capability) - {
        Capability.DISPUTE_EVIDENCE,
        Capability.TERMINATE_WITH_REFUND,
    }
    credential_fields = ()
    signature_header = "Billingdesk-Signature"
    page_size: ClassVar[int] = 100

    def check_credentials(self) -> None:
        """The sandbox lives in this database: there is nothing to check."""

    # --- backfill -------------------------------------------------------------------------
    def list_page(self, kind: ObjectKind, cursor: str | None) -> Page:
        try:
            after = int(cursor) if cursor else 0
        except ValueError:
            raise InvalidRequest(f"{cursor!r} is not a sandbox cursor") from None
        rows = list(
            SandboxObject.objects.filter(account=self.account, kind=kind.value, seq__gt=after)
            .order_by("seq")
            .only("seq", "data")[: self.page_size + 1]
        )
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        objects = [obj for row in rows if (obj := object_from(row.data)) is not None]
        return Page(objects=objects, next_cursor=str(rows[-1].seq) if more else None)

    def estimate_total(self, kind: ObjectKind) -> int | None:
        return SandboxObject.objects.filter(account=self.account, kind=kind.value).count()

    def object_fetch(self, *, kind: ObjectKind, object_id: str) -> list[GatewayObject]:
        row = (
            SandboxObject.objects.filter(account=self.account, kind=kind.value, object_id=object_id)
            .only("data")
            .first()
        )
        if row is None:
            raise NotFound(f"the sandbox has no {kind.value} {object_id}")
        obj = object_from(row.data)
        return [obj] if obj is not None else []

    # --- webhooks -------------------------------------------------------------------------
    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        verify_header(headers.get("billingdesk-signature"), body, self.account.webhook_secret)

    def read_envelope(self, body: bytes) -> EventEnvelope:
        event = _load_event(body)
        return EventEnvelope(id=event["id"], type=event["type"])

    def parse_webhook(self, body: bytes) -> ParsedEvent:
        event = _load_event(body)
        data = event.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
            raise MalformedPayload("event has no data.object")
        try:
            created = parse_iso(event.get("created"))
        except ValueError:
            created = None
        if created is None:
            raise MalformedPayload("event has no valid created timestamp")
        obj = object_from(data["object"])
        return ParsedEvent(
            id=event["id"], type=event["type"], created=created, objects=[obj] if obj else []
        )

    # --- actions --------------------------------------------------------------------------
    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._idempotent(
                "refund_create",
                idempotency_key,
                {"charge_id": charge_id, "amount": amount, "reason": reason},
                lambda e: _no_url(
                    e.refund_create(charge_id=charge_id, amount=amount, reason=reason)
                ),
            ),
        )

    def charge_authorize(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
        payment_method_id: str | None = None,
    ) -> ActionResult:
        params = {
            "customer_id": customer_id,
            "amount": amount,
            "currency": currency,
            "description": description,
            "payment_method_id": payment_method_id,
        }
        return self._idempotent(
            "charge_authorize",
            idempotency_key,
            params,
            lambda e: _no_url(
                e.charge_create(
                    customer_id=customer_id,
                    amount=amount,
                    currency=currency,
                    description=description,
                    payment_method_id=payment_method_id,
                    capture=False,
                )
            ),
        )

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._idempotent(
                "charge_capture",
                idempotency_key,
                {"charge_id": charge_id, "amount": amount},
                lambda e: _no_url(e.charge_capture(charge_id=charge_id, amount=amount)),
            ),
        )

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        return self._refreshed_on_refusal(
            charge_id,
            lambda: self._idempotent(
                "charge_void",
                idempotency_key,
                {"charge_id": charge_id},
                lambda e: _no_url(e.charge_void(charge_id=charge_id)),
            ),
        )

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> ActionResult:
        return self._idempotent(
            "subscription_cancel",
            idempotency_key,
            {"subscription_id": subscription_id, "at_period_end": at_period_end},
            lambda e: _no_url(
                e.subscription_cancel(subscription_id=subscription_id, at_period_end=at_period_end)
            ),
        )

    def subscription_pause(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        return self._idempotent(
            "subscription_pause",
            idempotency_key,
            {"subscription_id": subscription_id},
            lambda e: _no_url(e.subscription_pause(subscription_id=subscription_id)),
        )

    def subscription_resume(self, *, subscription_id: str, idempotency_key: str) -> ActionResult:
        return self._idempotent(
            "subscription_resume",
            idempotency_key,
            {"subscription_id": subscription_id},
            lambda e: _no_url(e.subscription_resume(subscription_id=subscription_id)),
        )

    def subscription_create(
        self,
        *,
        customer_id: str,
        plan: str,
        idempotency_key: str,
        quantity: int = 1,
        coupon_id: str | None = None,
        trial_days: int | None = None,
    ) -> ActionResult:
        chosen = plan_get(plan)

        def act(engine: SandboxEngine) -> str:
            customer = self._object(customer_id, "customer")
            currency = customer.data["currency"] or self.account.default_currency or "USD"
            engine.subscription_create(
                customer_id=customer_id,
                plan=chosen.id,
                product=chosen.product,
                amount=chosen.price(currency),
                currency=currency,
                interval=chosen.interval,
                interval_count=chosen.interval_count,
                quantity=quantity,
                trial_days=trial_days,
                coupon_id=coupon_id,
            )
            return ""

        params = {
            "customer_id": customer_id,
            "plan": plan,
            "quantity": quantity,
            "coupon_id": coupon_id,
            "trial_days": trial_days,
        }
        return self._idempotent("subscription_create", idempotency_key, params, act)

    def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        return self._idempotent(
            "invoice_send",
            idempotency_key,
            {"invoice_id": invoice_id},
            lambda e: _no_url(e.invoice_send(invoice_id=invoice_id)),
        )

    def invoice_void(self, *, invoice_id: str, idempotency_key: str) -> ActionResult:
        return self._idempotent(
            "invoice_void",
            idempotency_key,
            {"invoice_id": invoice_id},
            lambda e: _no_url(e.invoice_void(invoice_id=invoice_id)),
        )

    def subscription_reactivate(
        self, *, subscription_id: str, idempotency_key: str
    ) -> ActionResult:
        return self._idempotent(
            "subscription_reactivate",
            idempotency_key,
            {"subscription_id": subscription_id},
            lambda e: _no_url(e.subscription_reactivate(subscription_id=subscription_id)),
        )

    def coupon_apply(
        self,
        *,
        coupon_id: str,
        idempotency_key: str,
        customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> ActionResult:
        return self._idempotent(
            "coupon_apply",
            idempotency_key,
            {
                "coupon_id": coupon_id,
                "customer_id": customer_id,
                "subscription_id": subscription_id,
            },
            lambda e: _no_url(
                e.discount_create(
                    coupon_id=coupon_id, customer_id=customer_id, subscription_id=subscription_id
                )
            ),
        )

    def tax_id_add(
        self, *, customer_id: str, tax_type: str, value: str, idempotency_key: str
    ) -> ActionResult:
        return self._idempotent(
            "tax_id_add",
            idempotency_key,
            {"customer_id": customer_id, "tax_type": tax_type, "value": value},
            lambda e: _no_url(
                e.tax_id_create(customer_id=customer_id, tax_type=tax_type, value=value)
            ),
        )

    def payment_request_create(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        idempotency_key: str,
    ) -> ActionResult:
        """An open invoice for ``amount``; ``url`` is its sandbox-hosted pay page."""

        def act(engine: SandboxEngine) -> str:
            check_amount(amount)
            invoice = engine.invoice_create(
                customer_id=customer_id,
                currency=currency,
                lines=[Line(description.strip() or "Payment request", amount)],
                days_until_due=30,
            )
            invoice = engine.invoice_finalize(invoice_id=invoice.object_id)
            return str(invoice.data["hosted_invoice_url"])

        params = {
            "customer_id": customer_id,
            "amount": amount,
            "currency": currency,
            "description": description,
        }
        return self._idempotent("payment_request_create", idempotency_key, params, act)

    def card_update_start(self, *, customer_id: str, return_url: str) -> ActionResult:
        """A link to the sandbox's hosted card page; nothing changes until the customer acts."""
        self._object(customer_id, "customer")
        if return_url and urlsplit(return_url).scheme not in ("http", "https"):
            raise InvalidRequest("return_url must be an http(s) address.")
        return ActionResult(
            objects=[],
            url=card_url(
                account_id=str(self.account.pk), customer_id=customer_id, return_url=return_url
            ),
        )

    # --- helpers --------------------------------------------------------------------------
    def _object(self, object_id: str, kind: str) -> SandboxObject:
        obj = SandboxObject.objects.filter(
            account=self.account, object_id=object_id, kind=kind
        ).first()
        if obj is None:
            raise NotFound(f"No such {kind.replace('_', ' ')}: {object_id!r}")
        return obj

    def _refreshed_on_refusal(
        self, charge_id: str, act: Callable[[], ActionResult]
    ) -> ActionResult:
        """Run an action on a charge; when the sandbox's own state refuses it (refunded or
        disputed meanwhile, less left than the mirror said), hand the charge's live state
        with the refusal (``refreshed``), so the mirror is brought up to date and the panel
        stops offering it."""
        try:
            return act()
        except (NotAllowed, AmountTooLarge) as refusal:
            row = SandboxObject.objects.filter(
                account=self.account, object_id=charge_id, kind="charge"
            ).first()
            current = object_from(row.data) if row is not None else None
            if current is not None:
                refusal.refreshed.append(current)  # the actions service mirrors it
            raise

    def _idempotent(
        self, operation: str, key: str, params: dict[str, Any], act: _Act
    ) -> ActionResult:
        """Run ``act`` once per idempotency key; replay its stored result afterwards."""
        if not key or len(key) > 255:
            raise InvalidRequest("An idempotency key of 1 to 255 characters is required.")
        fingerprint = hashlib.sha256(
            json.dumps([operation, params], sort_keys=True, default=str).encode()
        ).hexdigest()
        stored = SandboxIdempotencyKey.objects.filter(account=self.account, key=key).first()
        if stored is not None:
            return _replay(stored, operation, fingerprint)
        engine = SandboxEngine(self.account)
        declined: CardDeclined | None = None
        try:
            with transaction.atomic():
                # The key is claimed first: a concurrent request with the same key waits on
                # this row (or fails on it) instead of acting a second time.
                record = SandboxIdempotencyKey.objects.create(
                    account=self.account,
                    key=key,
                    operation=operation,
                    fingerprint=fingerprint,
                    response={},
                )
                try:
                    with engine.operation():
                        url = act(engine)
                    response: dict[str, Any] = {
                        "request_id": new_id("req"),
                        "objects": [snapshot(obj.data) for obj in engine.changed],
                        "url": url,
                    }
                except CardDeclined as exc:
                    # The failed charge is kept (as a gateway keeps it), and so is the decline,
                    # so a retry with this key reports it again instead of charging again.
                    declined = exc
                    response = {"error": {"message": exc.message, "decline_code": exc.decline_code}}
                record.response = response
                record.save(update_fields=["response"])
        except IntegrityError:
            # A concurrent request with the same key committed first: answer as it did.
            stored = SandboxIdempotencyKey.objects.filter(account=self.account, key=key).first()
            if stored is None:
                raise
            return _replay(stored, operation, fingerprint)
        if declined is not None:
            raise declined
        return _result(response)


def _no_url(_: SandboxObject) -> str:
    return ""


def _replay(stored: SandboxIdempotencyKey, operation: str, fingerprint: str) -> ActionResult:
    if stored.operation != operation or stored.fingerprint != fingerprint:
        raise InvalidRequest(
            "This idempotency key was already used for a different request; use a new key."
        )
    error = stored.response.get("error")
    if error:
        raise CardDeclined(error["message"], decline_code=error["decline_code"])
    return _result(stored.response)


def _result(response: Mapping[str, Any]) -> ActionResult:
    objects: list[GatewayObject] = [
        obj for data in response["objects"] if (obj := object_from(data)) is not None
    ]
    return ActionResult(objects=objects, request_id=response["request_id"], url=response["url"])


def _load_event(body: bytes) -> dict[str, Any]:
    try:
        event = json_loads(body, max_depth=256)
    except (ValueError, UnicodeDecodeError):
        raise MalformedPayload("webhook body is not JSON") from None
    if (
        not isinstance(event, dict)
        or event.get("object") != "event"
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not event["id"]
    ):
        raise MalformedPayload("webhook body is not a sandbox event")
    return event
