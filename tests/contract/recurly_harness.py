"""The contract harness of the Recurly connector: the official client against the fake
Recurly API (``tests.fakes.recurly_api``), a real HTTP server.

Recurly's JSON notifications are thin (the object's type and id): the connector re-fetches
the object. So a customer event here is what Recurly does when an account changes: the
account takes the event's email at the event's time in the fake (unless the fake already holds
a newer state of it: a notification read later sees the account as it is then), and the
notification names it. Signatures are computed here with ``hmac`` on the scheme's own terms
(``"<ms>." + body``), not with the connector's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_for
from tests.contract.harness import _silent_server


class RecurlyHarness:
    kind = "recurly"
    remote: ClassVar[bool] = True

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self._accounts = 0

    def _credentials(self, api_key: str) -> dict[str, str]:
        return {"api_key": api_key, "region": "us", "subdomain": "acme", "api_base": self.fake.url}

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        self._accounts += 1
        key = f"rk_{self._accounts}_{time.monotonic_ns()}"
        self.fake.site(key, subdomain="acme", currency="EUR")
        return GatewayAccount.objects.create(
            kind=self.kind, name=name, default_currency="EUR", credentials=self._credentials(key)
        )

    def account_with_bad_credentials(self) -> GatewayAccount:
        return GatewayAccount.objects.create(
            kind=self.kind, name="Revoked", credentials=self._credentials("rk_revoked")
        )

    def connector(self, account: GatewayAccount) -> gw.Connector:
        connector = connector_for(account)
        # A short timeout and no back-off: the contract is about what is raised.
        connector.timeout = 0.5  # type: ignore[attr-defined]
        connector.read_retries = 0  # type: ignore[attr-defined]
        return connector

    def site(self, account: GatewayAccount) -> Any:
        return self.fake.sites[account.credentials["api_key"]]

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        from billingdesk.gateways.recurly.connector import RecurlyConnector

        monkeypatch.setattr(RecurlyConnector, "page_size", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        for email in emails:
            self.fake.add_account(self.site(account), email=email)

    def _notification(self, event_id: str, object_type: str, object_id: str, at: datetime) -> bytes:
        body = {
            "uuid": event_id,
            "id": object_id,
            "object_type": object_type,
            "site_id": self.fake.sites and "site",
            "event_type": "updated",
            "event_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return json.dumps(body).encode()

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        site = self.site(account)
        current = site.accounts.get(customer_id)
        if current is None:
            self.fake.add_account(site, email=email, account_id=customer_id, at=at)
        elif at >= current["updated_at"]:
            self.fake.set_account(site, customer_id, at=at, email=email)
        return self._notification(event_id, "account", customer_id, at)

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        from datetime import UTC

        return self._notification(event_id, "dunning_campaign", "dc_1", datetime.now(UTC))

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        ms = (at if at is not None else int(time.time())) * 1000
        key = (secret or account.webhook_secret).encode()
        digest = hmac.new(key, f"{ms}.".encode() + body, hashlib.sha256).hexdigest()
        return {"recurly-signature": f"{ms},{digest}"}

    @staticmethod
    def tamper(wire: bytes) -> bytes:
        """Change the signed notification (it carries no email: its event), keeping the
        signature."""
        return wire.replace(b'"event_type": "updated"', b'"event_type": "deleted"')

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        site = self.site(account)
        customer = self.fake.add_account(site, email="paid@example.com")
        self.fake.add_card(site, customer["id"])
        invoice = self.fake.purchase(site, customer["id"], f"{Decimal(amount) / 100:.2f}")
        return str(invoice["transactions"][0])

    def declining_customer(self, account: GatewayAccount) -> str:
        site = self.site(account)
        customer = self.fake.add_account(site, email="decline@example.com")
        self.fake.add_card(site, customer["id"], last4="0002")
        return str(customer["id"])

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        if failure == "rate_limit":
            self.fake.fail_next(429, times=100)
            yield
            self.fake.failures.clear()
            return
        with _silent_server() as url:
            credentials = dict(account.credentials)
            account.credentials = {**credentials, "api_base": url}
            account.save(update_fields=["credentials"])
            yield
            account.credentials = credentials
            account.save(update_fields=["credentials"])
