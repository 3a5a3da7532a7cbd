"""The custom connector: nothing to list or receive (records are pushed), actions sent to the
merchant.

Its credentials (entered by an administrator, kept encrypted): ``action_url``,
``signing_secret`` (``whsec_…``, Standard Webhooks) and ``actions``, the comma-separated
actions the merchant answers (refund, capture, void, cancel_subscription, send_invoice,
create_subscription, apply_coupon).
Only those are offered to agents: ``supports`` reads them per account.

The merchant is sent the full record as it pushed it, so this connector reads the mirror
(the custom gateway's records *are* the mirror); it sits in the layer above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billingdesk.billing.models import Charge, Customer, Invoice, Mirrored, Subscription
from billingdesk.core.errors import (
    AuthenticationFailed,
    InvalidRequest,
    MalformedPayload,
    SignatureInvalid,
)
from billingdesk.core.outbound import url_check
from billingdesk.gateways import interface as gw
from billingdesk.gateways.custom.client import action_call

C = gw.Capability
# Which capabilities each action the merchant enables switches on.
ACTIONS: dict[str, frozenset[gw.Capability]] = {
    "refund": frozenset({C.REFUND, C.PARTIAL_REFUND}),
    "capture": frozenset({C.CAPTURE, C.PARTIAL_CAPTURE}),
    "void": frozenset({C.VOID}),
    "cancel_subscription": frozenset({C.CANCEL_SUBSCRIPTION, C.CANCEL_AT_PERIOD_END}),
    "send_invoice": frozenset({C.SEND_INVOICE}),
    "create_subscription": frozenset({C.CREATE_SUBSCRIPTION}),
    "apply_coupon": frozenset({C.APPLY_COUPON}),
}


class CustomConnector(gw.Connector):
    kind = "custom"
    display_name = "Custom gateway (your own billing)"
    capabilities = frozenset().union(*ACTIONS.values())
    credential_fields = ("action_url", "signing_secret", "actions")

    def enabled(self) -> set[str]:
        text = str((self.account.credentials or {}).get("actions") or "")
        return {a.strip() for a in text.split(",") if a.strip() in ACTIONS}

    def supports(self, capability: gw.Capability) -> bool:
        return any(capability in ACTIONS[action] for action in self.enabled())

    def check_credentials(self) -> None:
        creds = self.account.credentials or {}
        if not self.enabled():
            return  # push only: nothing is ever sent to the merchant
        if not creds.get("signing_secret"):
            raise AuthenticationFailed("Set a signing_secret to sign the action requests.")
        try:
            url_check(str(creds.get("action_url") or ""))
        except InvalidRequest as exc:
            raise AuthenticationFailed(f"action_url: {exc.message}") from None

    def list_page(self, kind: gw.ObjectKind, cursor: str | None) -> gw.Page:
        return gw.Page(objects=[], next_cursor=None)  # records are pushed, never listed

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> None:
        raise SignatureInvalid("A custom gateway pushes through the API, not webhooks.")

    def read_envelope(self, body: bytes) -> gw.EventEnvelope:
        raise MalformedPayload("A custom gateway pushes through the API, not webhooks.")

    def parse_webhook(self, body: bytes) -> gw.ParsedEvent:
        raise MalformedPayload("A custom gateway pushes through the API, not webhooks.")

    # --- actions ---------------------------------------------------------------------------
    def _call(
        self, action: str, model: type[Mirrored], gid: str, key: str, params: dict[str, Any],
        *, needs: str = "",
    ) -> gw.ActionResult:  # fmt: skip
        if (needs or action) not in self.enabled():
            raise gw._missing(self, action.replace("_", " "))
        row = model._default_manager.filter(account=self.account, gateway_id=gid).first()
        creds = self.account.credentials or {}
        asked = gw.action_context.get()
        return action_call(
            url=str(creds.get("action_url") or ""),
            secret=str(creds.get("signing_secret") or ""),
            action=action,
            idempotency_key=key,
            params=params,
            obj=dict(row.raw) if row is not None and row.raw else {"id": gid},
            agent={"name": asked.agent_name, "email": asked.agent_email,
                   "approved_by": asked.approver_name},
            reason={"code": asked.reason_code, "text": asked.reason_text},
        )  # fmt: skip

    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> gw.ActionResult:
        params = {"amount": amount, "reason": reason}
        return self._call("refund", Charge, charge_id, idempotency_key, params)

    def charge_authorize(
        self, *, customer_id: str, amount: int, currency: str, description: str,
        idempotency_key: str, payment_method_id: str | None = None,
    ) -> gw.ActionResult:  # fmt: skip
        params = {"amount": amount, "currency": currency, "description": description,
                  "payment_method_id": payment_method_id}  # fmt: skip
        return self._call(
            "authorize", Customer, customer_id, idempotency_key, params, needs="capture"
        )

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> gw.ActionResult:
        return self._call("capture", Charge, charge_id, idempotency_key, {"amount": amount})

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> gw.ActionResult:
        return self._call("void", Charge, charge_id, idempotency_key, {})

    def subscription_cancel(
        self, *, subscription_id: str, at_period_end: bool, idempotency_key: str
    ) -> gw.ActionResult:
        params = {"at_period_end": at_period_end}
        return self._call(
            "cancel_subscription", Subscription, subscription_id, idempotency_key, params
        )

    def invoice_send(self, *, invoice_id: str, idempotency_key: str) -> gw.ActionResult:
        return self._call("send_invoice", Invoice, invoice_id, idempotency_key, {})

    def subscription_create(
        self, *, customer_id: str, plan: str, idempotency_key: str, quantity: int = 1,
        coupon_id: str | None = None, trial_days: int | None = None,
    ) -> gw.ActionResult:  # fmt: skip
        params = {"plan": plan, "quantity": quantity, "coupon_id": coupon_id,
                  "trial_days": trial_days}  # fmt: skip
        return self._call("create_subscription", Customer, customer_id, idempotency_key, params)

    def coupon_apply(
        self, *, coupon_id: str, idempotency_key: str, customer_id: str | None = None,
        subscription_id: str | None = None,
    ) -> gw.ActionResult:  # fmt: skip
        params = {"coupon_id": coupon_id}
        if subscription_id:
            return self._call(
                "apply_coupon", Subscription, subscription_id, idempotency_key, params
            )
        return self._call("apply_coupon", Customer, customer_id or "", idempotency_key, params)
