"""What each gateway connector supplies so the contract suite can drive it.

A harness knows how to make an account of its connector, how to arrange objects in the
gateway (independently of the connector under test where it can), how the gateway signs a
webhook and what its event bodies look like, and how to make the gateway fail. The cases in
``test_gateway_contract.py`` are written once against this protocol; adding a connector to
the suite means writing one harness and listing it in ``conftest.GATEWAY_HARNESSES``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import pytest

from billingdesk.core.signing import sign_header
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.reference import service
from billingdesk.gateways.reference.connector import ReferenceConnector
from billingdesk.gateways.registry import connector_for


class GatewayHarness(Protocol):
    kind: ClassVar[str]
    # Whether the connector talks to a remote service (and so can time out, be rate-limited
    # and refuse credentials). The sandbox lives in our own database: it cannot.
    remote: ClassVar[bool]

    def account(self, name: str = "Contract shop") -> GatewayAccount: ...

    def account_with_bad_credentials(self) -> GatewayAccount: ...

    def connector(self, account: GatewayAccount) -> gw.Connector: ...

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None: ...

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None: ...

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes: ...

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes: ...

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]: ...

    def captured_charge(self, account: GatewayAccount, amount: int) -> str: ...

    def declining_customer(self, account: GatewayAccount) -> str: ...

    def failing(self, account: GatewayAccount, failure: str) -> AbstractContextManager[None]:
        """While open, the gateway answers requests with ``failure``: timeout or rate_limit."""
        ...


def _iso(at: datetime) -> str:
    return at.isoformat()


# --- the reference connector -------------------------------------------------------------
class ReferenceHarness:
    kind = "reference"
    remote = True

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        return GatewayAccount.objects.create(
            kind=self.kind, name=name, default_currency="EUR", credentials={"api_key": "rk_1"}
        )

    def account_with_bad_credentials(self) -> GatewayAccount:
        account = GatewayAccount.objects.create(
            kind=self.kind, name="Revoked", credentials={"api_key": "rk_revoked"}
        )
        service.require_api_key(str(account.pk), "rk_current")
        return account

    def connector(self, account: GatewayAccount) -> gw.Connector:
        return connector_for(account)

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        monkeypatch.setattr(ReferenceConnector, "page_size", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        at = datetime(2025, 6, 1, tzinfo=UTC)
        for n, email in enumerate(emails):
            service.put(str(account.pk), gw.GwCustomer(id=f"cus_{n}", updated=at, email=email))

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        customer = gw.GwCustomer(id=customer_id, updated=at, email=email)
        return ReferenceConnector.event_body(event_id, customer)

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        return json.dumps({"id": event_id, "type": "payout.paid", "data": {"id": "po_1"}}).encode()

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        return ReferenceConnector.sign(body, secret or account.webhook_secret, timestamp=at)

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        now = datetime.now(UTC)
        charge = gw.GwCharge(
            id=f"ch_paid_{amount}",
            updated=now,
            customer_id=None,
            amount=amount,
            amount_captured=amount,
            currency="EUR",
            status=gw.ChargeStatus.CAPTURED,
        )
        service.put(str(account.pk), charge)
        return charge.id

    def declining_customer(self, account: GatewayAccount) -> str:
        now = datetime.now(UTC)
        service.put(str(account.pk), gw.GwCustomer(id="cus_declines", updated=now))
        card = gw.GwPaymentMethod(
            id="pm_declines", updated=now, customer_id="cus_declines", brand="visa", last4="0002"
        )
        service.put(str(account.pk), card)
        return "cus_declines"

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        service.fail_next(str(account.pk), failure, times=100)
        yield
        service._state(str(account.pk)).faults.clear()


# --- the sandbox -----------------------------------------------------------------------------
class SandboxHarness:
    kind = "sandbox"
    remote = False

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        return GatewayAccount.objects.create(kind=self.kind, name=name, default_currency="EUR")

    def account_with_bad_credentials(self) -> GatewayAccount:  # pragma: no cover - not remote
        raise AssertionError("the sandbox has no credentials")

    def connector(self, account: GatewayAccount) -> gw.Connector:
        return connector_for(account)

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        from billingdesk.gateways.sandbox.connector import SandboxConnector

        monkeypatch.setattr(SandboxConnector, "page_size", size)

    def _engine(self, account: GatewayAccount) -> Any:
        from billingdesk.gateways.sandbox.engine import SandboxEngine

        return SandboxEngine(account)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        engine = self._engine(account)
        for email in emails:
            engine.customer_create(email=email)

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        customer = {
            "id": customer_id,
            "object": "customer",
            "email": email,
            "name": "",
            "phone": "",
            "address": {"country": ""},
            "currency": "",
            "description": "",
            "created": _iso(at),
            "updated": _iso(at),
        }
        return json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "customer.updated",
                "created": _iso(at),
                "data": {"object": customer},
            }
        ).encode()

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        now = _iso(datetime.now(UTC))
        return json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": "payout.paid",
                "created": now,
                "data": {"object": {"id": "po_1", "object": "payout", "updated": now}},
            }
        ).encode()

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        return {
            "Billingdesk-Signature": sign_header(
                body, secret or account.webhook_secret, timestamp=at
            )
        }

    def _card_customer(self, account: GatewayAccount, number: str) -> str:
        engine = self._engine(account)
        customer = engine.customer_create(email="card@example.com", currency="EUR")
        engine.card_attach(
            customer_id=customer.object_id, number=number, exp_month=12, exp_year=2040
        )
        return str(customer.object_id)

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        customer_id = self._card_customer(account, "4242424242424242")
        charge = self._engine(account).charge_create(
            customer_id=customer_id, amount=amount, currency="EUR"
        )
        return str(charge.object_id)

    def declining_customer(self, account: GatewayAccount) -> str:
        # Attaches fine, every charge is declined (Stripe's test card of the same number).
        return self._card_customer(account, "4000000000000341")

    def failing(
        self, account: GatewayAccount, failure: str
    ) -> AbstractContextManager[None]:  # pragma: no cover - not remote
        raise AssertionError("the sandbox cannot fail like a remote service")


# --- Stripe, against localstripe behind the Stripe fake ------------------------------------
class StripeHarness:
    """Stripe at localstripe, through ``StripeFake`` for what localstripe lacks (disputes,
    idempotency replay, injected 429s)."""

    kind = "stripe"
    remote = True

    def __init__(self, fake: Any, seed: Any) -> None:
        self.fake = fake  # StripeFake(upstream=localstripe)
        self.seed = seed  # the official SDK at localstripe, to arrange data
        self._blackhole: socket.socket | None = None

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        from billingdesk.gateways.stripe.tests.conftest import make_account

        return make_account(self.fake.url, name=name)

    def account_with_bad_credentials(self) -> GatewayAccount:
        from billingdesk.gateways.stripe.tests.conftest import make_account

        return make_account(self.fake.url, key="sk_expired", name="Revoked")

    def connector(self, account: GatewayAccount) -> gw.Connector:
        from billingdesk.gateways.stripe.client import StripeApi

        connector = connector_for(account)
        # Short timeouts and back-off: the contract is about what is raised, not how long
        # the production client waits before raising it.
        credentials = account.credentials
        connector.api = StripeApi(  # type: ignore[attr-defined]
            secret_key=credentials["secret_key"],
            api_base=credentials["api_base"],
            timeout=(2.0, 0.5),
            max_retries=1,
            retry_base_delay=0.001,
        )
        return connector

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        monkeypatch.setattr("billingdesk.gateways.stripe.connector.PAGE_SIZE", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        for email in emails:
            self.seed.v1.customers.create(params={"email": email})

    def _event(self, event_id: str, event_type: str, obj: dict[str, Any], at: int) -> bytes:
        from billingdesk.gateways.stripe.tests.helpers import event_json

        return event_json(event_type, obj, event_id=event_id, created=at).encode()

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        customer = {
            "id": customer_id,
            "object": "customer",
            "email": email,
            "name": None,
            "created": int(at.timestamp()),
            "metadata": {},
        }
        return self._event(event_id, "customer.updated", customer, int(at.timestamp()))

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        return self._event(
            event_id, "payout.paid", {"id": "po_1", "object": "payout"}, int(time.time())
        )

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        import stripe

        secret = secret or account.webhook_secret
        try:
            header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, at)
        except UnicodeDecodeError:  # the SDK signs text only; the scheme is the same bytes-wise
            header = sign_header(body, secret, timestamp=at)
        return {"Stripe-Signature": header}

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        from billingdesk.gateways.stripe.tests.helpers import charge_id, customer_with_card, pay

        customer = customer_with_card(self.seed, email="paid@example.com")
        return charge_id(pay(self.seed, customer, amount))

    def declining_customer(self, account: GatewayAccount) -> str:
        customer = self.seed.v1.customers.create(params={"email": "decline@example.com"})
        card = self.seed.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": "4000000000000341",  # attaches, every charge declined
                    "exp_month": "12",
                    "exp_year": "2030",
                    "cvc": "123",
                },
            }
        )
        self.seed.v1.payment_methods.attach(card.id, params={"customer": customer.id})
        self.seed.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
        )
        return str(customer.id)

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        if failure == "rate_limit":
            self.fake.fail_next("/v1/", 429, times=100)
            yield
            self.fake.failures.clear()
            return
        # A timeout: a server that accepts the connection and never answers.
        with _silent_server() as url:
            credentials = dict(account.credentials)
            account.credentials = {**credentials, "api_base": url}
            account.save(update_fields=["credentials"])
            yield
            account.credentials = credentials
            account.save(update_fields=["credentials"])


@contextmanager
def _silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


# --- the custom gateway (the merchant's own billing) -------------------------------------------
class CustomHarness:
    """Records are pushed into the mirror (there is nothing to list or receive: the connector
    declares neither backfill nor webhooks); actions go to a real local merchant server
    (``tests.fakes.custom_merchant``)."""

    kind = "custom"
    remote = True

    def __init__(self, merchant: Any) -> None:
        self.merchant = merchant

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        return GatewayAccount.objects.create(
            kind=self.kind, name=name, default_currency="EUR",
            credentials={"action_url": self.merchant.url, "signing_secret": self.merchant.secret,
                         "actions": "refund"},
        )  # fmt: skip

    def account_with_bad_credentials(self) -> GatewayAccount:
        return GatewayAccount.objects.create(
            kind=self.kind, name="No secret",
            credentials={"action_url": self.merchant.url, "actions": "refund"},
        )  # fmt: skip

    def connector(self, account: GatewayAccount) -> gw.Connector:
        return connector_for(account)

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        pass  # nothing is listed

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        from billingdesk.billing.services import mirror_upsert

        at = datetime(2025, 6, 1, tzinfo=UTC)
        mirror_upsert(
            account=account,
            objects=[gw.GwCustomer(id=f"u-{n}", updated=at, email=e) for n, e in enumerate(emails)],
        )

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        return json.dumps({"id": event_id, "customer": customer_id, "email": email}).encode()

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        return json.dumps({"id": event_id}).encode()

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        return {}

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        from billingdesk.billing.services import mirror_upsert
        from billingdesk.gateways.reference.mapping import to_json

        charge = gw.GwCharge(
            id=f"order-{amount}", updated=datetime.now(UTC), customer_id=None, amount=amount,
            amount_captured=amount, currency="EUR", status=gw.ChargeStatus.CAPTURED,
        )  # fmt: skip
        # As the push endpoint stores it: the raw payload is the merchant's own JSON.
        mirror_upsert(account=account, objects=[replace(charge, raw=to_json(charge))])
        return charge.id

    def declining_customer(self, account: GatewayAccount) -> str:  # pragma: no cover
        raise AssertionError("the contract shop enables refunds only")

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        self.merchant.failure = failure
        yield
        self.merchant.failure = ""


# --- Braintree, the real SDK against the fake Braintree gateway ----------------------------
class BraintreeHarness:
    """Braintree through its official SDK, pointed at ``tests.fakes.braintree_gateway``.

    Braintree signs inside the body (form fields ``bt_signature``/``bt_payload``), so this
    harness gives ``signed_delivery`` (headers and body together) and ``tamper``; the event
    bodies it builds are the notification's XML without its timestamp, which is added (the
    delivery's, signed) when the delivery is made. The signature is computed with the SDK's
    own signer (``braintree.util.crypto.Crypto``), not with the connector's code.
    """

    kind = "braintree"
    remote = True

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self._accounts = 0

    def _credentials(self, merchant_id: str, private_key: str) -> dict[str, str]:
        return {
            "merchant_id": merchant_id,
            "public_key": f"pub_{merchant_id}",
            "private_key": private_key,
            "environment": "sandbox",
            "api_base": self.fake.url,
        }

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        self._accounts += 1
        merchant_id = f"m{self._accounts}"
        self.fake.merchant(merchant_id, f"pub_{merchant_id}", f"priv_{merchant_id}", "EUR")
        return GatewayAccount.objects.create(
            kind=self.kind,
            name=name,
            default_currency="EUR",
            credentials=self._credentials(merchant_id, f"priv_{merchant_id}"),
        )

    def account_with_bad_credentials(self) -> GatewayAccount:
        self._accounts += 1
        merchant_id = f"m{self._accounts}"
        self.fake.merchant(merchant_id, f"pub_{merchant_id}", "priv_rotated", "EUR")
        return GatewayAccount.objects.create(
            kind=self.kind,
            name="Revoked",
            credentials=self._credentials(merchant_id, "priv_revoked"),
        )

    def connector(self, account: GatewayAccount) -> gw.Connector:
        connector = connector_for(account)
        # Short timeouts and back-off: the contract is about what is raised.
        connector.timeout = (2.0, 0.5)  # type: ignore[attr-defined]
        connector.read_retries = 0  # type: ignore[attr-defined]
        return connector

    def _merchant(self, account: GatewayAccount) -> Any:
        return self.fake.merchants[account.credentials["merchant_id"]]

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        from billingdesk.gateways.braintree.connector import BraintreeConnector

        monkeypatch.setattr(BraintreeConnector, "page_size", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        for email in emails:
            self.fake.add_customer(self._merchant(account), email=email)

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        # Braintree has no customer notifications: a customer reaches the mirror with a
        # transaction, as the transaction saw it when it was made (its created_at).
        from tests.fakes.braintree_gateway import to_xml

        txn = {
            "id": f"t_{event_id}",
            "type": "sale",
            "status": "settled",
            "amount": "10.00",
            "currency_iso_code": "EUR",
            "created_at": at,
            "updated_at": at,
            "customer": {"id": customer_id, "email": email, "first_name": "", "last_name": ""},
            "refund_ids": [],
        }
        subject = to_xml("subject", {"transaction": txn})
        return f"<notification><kind>transaction_settled</kind>{subject}</notification>".encode()

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        return (
            b"<notification><kind>check</kind><subject><check type='boolean'>true</check>"
            b"</subject></notification>"
        )

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        return self.signed_delivery(account, body, secret=secret, at=at)[0]

    def signed_delivery(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """What Braintree POSTs: the notification with its timestamp, base64, signed."""
        from base64 import encodebytes
        from urllib.parse import urlencode

        from braintree.util.crypto import Crypto

        moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
        stamp = f'<timestamp type="datetime">{moment.strftime("%Y-%m-%dT%H:%M:%SZ")}</timestamp>'
        xml = body.replace(b"<notification>", b"<notification>" + stamp.encode(), 1)
        payload = encodebytes(xml)
        credentials = account.credentials
        digest = Crypto.sha1_hmac_hash(secret or credentials["private_key"], payload)
        signature = f"{credentials['public_key']}|{digest}"
        form = urlencode({"bt_signature": signature, "bt_payload": payload.decode()})
        return {"Content-Type": "application/x-www-form-urlencoded"}, form.encode()

    @staticmethod
    def tamper(wire: bytes) -> bytes:
        """Change the signed payload's content, keeping its signature."""
        from base64 import decodebytes, encodebytes
        from urllib.parse import parse_qs, urlencode

        fields = {k: v[0] for k, v in parse_qs(wire.decode()).items()}
        xml = decodebytes(fields["bt_payload"].encode())
        fields["bt_payload"] = encodebytes(
            xml.replace(b"v1@example.com", b"v9@example.com")
        ).decode()
        return urlencode(fields).encode()

    def _card_customer(self, account: GatewayAccount, number: str) -> str:
        merchant = self._merchant(account)
        customer = self.fake.add_customer(merchant, email="card@example.com")
        self.fake.add_card(merchant, customer["id"], number=number)
        return str(customer["id"])

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        merchant = self._merchant(account)
        customer = self.fake.add_customer(merchant, email="paid@example.com")
        card = self.fake.add_card(merchant, customer["id"])
        txn = self.fake.add_sale(
            merchant, token=card["token"], amount=f"{Decimal(amount) / 100:.2f}"
        )
        return str(txn["id"])

    def declining_customer(self, account: GatewayAccount) -> str:
        # The sandbox's processor-declined card.
        return self._card_customer(account, "4000111111111115")

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


# --- PayPal, the real connector against the fake PayPal REST API ------------------------------
class PayPalHarness:
    """PayPal through billingdesk's REST client, pointed at ``tests.fakes.paypal_api``.

    PayPal has no customer object or customer events: a customer is a payer, seeded as a
    buyer's completed checkout (Transaction Search lists it with its ``payer_info``) and
    delivered as a ``CHECKOUT.ORDER.APPROVED`` event (the order's payer, versioned at the
    order's ``update_time``). Deliveries are signed by ``tests.fakes.paypal_signer`` (a test
    CA and PayPal's certificate, served by the fake at ``PAYPAL-CERT-URL``), not by the
    connector's code; ``secret`` names a key PayPal never certified.
    """

    kind = "paypal"
    remote = True

    def __init__(self, fake: Any, signer: Any) -> None:
        self.fake = fake
        self.signer = signer
        self.cert_url = fake.add_cert("CERT-360caa42-fca2a594-test", signer.chain_pem)
        self._accounts = 0

    def _create(self, name: str, secret: str, real_secret: str) -> GatewayAccount:
        self._accounts += 1
        client_id = f"client{self._accounts}"
        m = self.fake.merchant(client_id, real_secret, "EUR")
        m.webhooks.add(f"WH-{client_id}")
        return GatewayAccount.objects.create(
            kind=self.kind,
            name=name,
            default_currency="EUR",
            credentials={
                "client_id": client_id,
                "client_secret": secret,
                "environment": "sandbox",
                "webhook_id": f"WH-{client_id}",
                "api_base": self.fake.url,
            },
        )

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        return self._create(name, "secret", "secret")

    def account_with_bad_credentials(self) -> GatewayAccount:
        return self._create("Revoked", "secret-revoked", "secret-rotated")

    def connector(self, account: GatewayAccount) -> gw.Connector:
        connector = connector_for(account)
        connector.timeout = (2.0, 0.5)  # type: ignore[attr-defined]
        connector.max_retries = 0  # type: ignore[attr-defined]
        return connector

    def _merchant(self, account: GatewayAccount) -> Any:
        return self.fake.merchants[account.credentials["client_id"]]

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        from billingdesk.gateways.paypal.connector import PayPalConnector

        monkeypatch.setattr(PayPalConnector, "page_size", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        for email in emails:
            self.fake.add_payment(self._merchant(account), email=email)

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        order = {
            "id": f"5O{event_id[-15:]}",
            "intent": "CAPTURE",
            "status": "APPROVED",
            "payer": {
                "payer_id": customer_id,
                "email_address": email,
                "name": {"given_name": "Pat", "surname": "Buyer"},
                "address": {"country_code": "FR"},
            },
            "purchase_units": [
                {"reference_id": "default", "amount": {"currency_code": "EUR", "value": "10.00"}}
            ],
            "create_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "update_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": [],
        }
        return self._event(event_id, "CHECKOUT.ORDER.APPROVED", "checkout-order", order, at)

    @staticmethod
    def _event(
        event_id: str, event_type: str, resource_type: str, resource: dict[str, Any], at: datetime
    ) -> bytes:
        return json.dumps(
            {
                "id": event_id,
                "event_version": "1.0",
                "create_time": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "resource_type": resource_type,
                "event_type": event_type,
                "summary": event_type,
                "resource": resource,
                "links": [],
            }
        ).encode()

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        batch = {"batch_header": {"payout_batch_id": "5UXD2E8A7EBQJ", "batch_status": "SUCCESS"}}
        return self._event(
            event_id, "PAYMENT.PAYOUTSBATCH.SUCCESS", "payouts", batch, datetime.now(UTC)
        )

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        moment = datetime.fromtimestamp(at, UTC) if at is not None else None
        return self.signer.headers(  # type: ignore[no-any-return]
            body,
            webhook_id=account.credentials["webhook_id"],
            cert_url=self.cert_url,
            at=moment,
            key=self.signer.rogue if secret is not None else None,
        )

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        value = f"{Decimal(amount) / 100:.2f}"
        capture = self.fake.add_payment(
            self._merchant(account), email="paid@example.com", amount=value
        )
        return str(capture["id"])

    def declining_customer(self, account: GatewayAccount) -> str:
        m = self._merchant(account)
        payer = self.fake.payer("decline@example.com")
        self.fake.add_vault_token(m, payer["payer_id"], email="decline@example.com", declines=True)
        return str(payer["payer_id"])

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        from billingdesk.gateways.paypal.client import forget_tokens

        forget_tokens()
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


# --- WooCommerce, the REST API client against the fake shop ----------------------------------
class WooCommerceHarness:
    """WooCommerce through its REST API, at ``tests.fakes.woocommerce_api`` over plain HTTP
    (so OAuth 1.0a signed requests). WooCommerce signs a delivery's body only: no time, no
    nonce (``signs_time = False``), so the contract's stale/future cases check instead that
    a replay is a duplicate. The topic travels in ``X-WC-Webhook-Topic``, so this harness
    gives ``signed_delivery``; the signature is computed here, not with the connector's
    code."""

    kind = "woocommerce"
    remote = True
    signs_time = False

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self._accounts = 0

    def _account(self, name: str, secret: str) -> GatewayAccount:
        self._accounts += 1
        shop = self.fake.shop(f"s{self._accounts}", secret="cs_current")
        return GatewayAccount.objects.create(
            kind=self.kind,
            name=name,
            default_currency="EUR",
            credentials={
                "site_url": self.fake.site_url(shop),
                "consumer_key": shop.key,
                "consumer_secret": secret,
            },
        )

    def account(self, name: str = "Contract shop") -> GatewayAccount:
        return self._account(name, "cs_current")

    def account_with_bad_credentials(self) -> GatewayAccount:
        return self._account("Revoked", "cs_revoked")

    def connector(self, account: GatewayAccount) -> gw.Connector:
        connector = connector_for(account)
        connector.timeout = (2.0, 0.5)  # type: ignore[attr-defined]
        connector.read_retries = 0  # type: ignore[attr-defined]
        return connector

    def _shop(self, account: GatewayAccount) -> Any:
        return self.fake.shops[account.credentials["site_url"].rsplit("/", 1)[1]]

    def set_page_size(self, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        from billingdesk.gateways.woocommerce.connector import WooCommerceConnector

        monkeypatch.setattr(WooCommerceConnector, "page_size", size)

    def seed_customers(self, account: GatewayAccount, emails: list[str]) -> None:
        for email in emails:
            self.fake.add_customer(self._shop(account), email=email)

    def customer_event(
        self, account: GatewayAccount, *, event_id: str, customer_id: str, email: str, at: datetime
    ) -> bytes:
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        customer = {
            "id": customer_id,
            "date_created_gmt": stamp,
            "date_modified_gmt": stamp,
            "email": email,
            "first_name": "",
            "last_name": "",
            "role": "customer",
            "username": email.split("@")[0],
            "billing": {"email": email, "country": "FR"},
            "meta_data": [],
        }
        return json.dumps(customer).encode()

    def unknown_event(self, account: GatewayAccount, *, event_id: str) -> bytes:
        return json.dumps({"id": 501, "name": "Mug", "type": "simple", "sku": "MUG"}).encode()

    def sign(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> dict[str, str]:
        return self.signed_delivery(account, body, secret=secret, at=at)[0]

    def signed_delivery(
        self,
        account: GatewayAccount,
        body: bytes,
        *,
        secret: str | None = None,
        at: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """What WooCommerce POSTs (``WC_Webhook::deliver``); ``at`` is not signed."""
        import base64
        import hashlib
        import hmac

        topic = "product.updated" if b'"sku"' in body else "customer.updated"
        key = (secret or account.webhook_secret).encode()
        digest = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": account.credentials["site_url"] + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": topic.split(".")[0],
            "X-WC-Webhook-Event": topic.split(".")[1],
            "X-WC-Webhook-Signature": digest,
            "X-WC-Webhook-ID": "7",
            "X-WC-Webhook-Delivery-ID": str(at or int(time.time())),
        }
        return headers, body

    def captured_charge(self, account: GatewayAccount, amount: int) -> str:
        shop = self._shop(account)
        customer = self.fake.add_customer(shop, email="paid@example.com")
        order = self.fake.add_order(
            shop, customer=customer, items=[("Lamp", 1, f"{Decimal(amount) / 100:.2f}")]
        )
        return str(order["id"])

    def declining_customer(self, account: GatewayAccount) -> str:  # pragma: no cover
        raise AssertionError("WooCommerce takes no payments through its API")

    @contextmanager
    def failing(self, account: GatewayAccount, failure: str) -> Iterator[None]:
        if failure == "rate_limit":
            self.fake.fail_next(429, times=100)
            yield
            self.fake.failures.clear()
            return
        with _silent_server() as url:
            credentials = dict(account.credentials)
            account.credentials = {**credentials, "site_url": url}
            account.save(update_fields=["credentials"])
            yield
            account.credentials = credentials
            account.save(update_fields=["credentials"])
