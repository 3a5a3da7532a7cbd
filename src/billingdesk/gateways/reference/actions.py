"""The reference connector's write side: refunds, authorisations, captures and voids.

Each action sends the caller's idempotency key with the request (the service replays the
first answer for a retry) and returns the objects the gateway changed, already mapped, for
``mirror_upsert``. Only what ``ReferenceConnector.capabilities`` declares is implemented;
the contract suite (``tests/contract/``) checks that both ways.
"""

from __future__ import annotations

from functools import cached_property

from billingdesk.gateways.interface import ActionResult, Connector
from billingdesk.gateways.reference.client import ReferenceClient


class ReferenceActions(Connector):
    @cached_property
    def client(self) -> ReferenceClient:
        creds = self.account.credentials or {}
        return ReferenceClient(
            account_id=str(self.account.pk), api_key=str(creds.get("api_key") or "")
        )

    def check_credentials(self) -> None:
        self.client.ping()

    def refund_create(
        self, *, charge_id: str, amount: int | None, reason: str, idempotency_key: str
    ) -> ActionResult:
        params = {"charge_id": charge_id, "amount": amount, "reason": reason}
        return ActionResult(objects=self.client.write("refund", idempotency_key, params))

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
        return ActionResult(objects=self.client.write("authorize", idempotency_key, params))

    def charge_capture(
        self, *, charge_id: str, amount: int | None, idempotency_key: str
    ) -> ActionResult:
        params = {"charge_id": charge_id, "amount": amount}
        return ActionResult(objects=self.client.write("capture", idempotency_key, params))

    def charge_void(self, *, charge_id: str, idempotency_key: str) -> ActionResult:
        params = {"charge_id": charge_id}
        return ActionResult(objects=self.client.write("void", idempotency_key, params))
