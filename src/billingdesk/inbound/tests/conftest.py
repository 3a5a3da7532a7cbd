"""Inbound email tests: a shop whose receipt was emailed, a helpdesk fake, a live listener."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from django.core import mail

from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.helpdesks.tests.conftest import no_sleep, wired  # noqa: F401
from billingdesk.inbound.smtp import listener

DOMAIN = "reply.acme.example"


@pytest.fixture(autouse=True)
def _inbound_settings(settings: Any) -> None:
    settings.BILLINGDESK_INBOUND_DOMAIN = DOMAIN
    settings.BILLINGDESK_INBOUND_KEYS = ["test-routing-key"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class Receipt:
    document: Document
    reply_to: str
    message_id: str
    email: str


@pytest.fixture
def receipt(db: None, drain_tasks: Any) -> Receipt:
    """A French shop's customer paid; the receipt went out with its routing Reply-To."""
    shop = shop_create("FR", language="fr")
    charge = shop.pay(amount=12000, country="FR", email="client@example.org")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    sent = [m for m in mail.outbox if m.extra_headers.get("Message-ID") == doc.message_id]
    assert sent, "the receipt was emailed"
    return Receipt(doc, sent[0].reply_to[0], doc.message_id, "client@example.org")


def reply(
    *,
    to: str,
    sender: str = "client@example.org",
    subject: str = "Re: your receipt",
    body: str = "Why was I charged twice?\n\nOn Monday Acme wrote:\n> Thank you for your payment",
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Client <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def listener_uses_test_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The listener stores from a thread of its own; here that thread uses the test's database
    connection (as Django's LiveServerTestCase shares it), so what it stores is inside the
    test's transaction. The test thread is blocked in smtplib meanwhile."""
    from django.db import connections

    from billingdesk.inbound import intake, smtp

    shared = connections["default"]
    shared.inc_thread_sharing()

    def store(raw: bytes, source: str, mail_from: str, rcpt_tos: list[str]) -> None:
        connections["default"] = shared
        intake.message_store(raw, source=source, envelope_from=mail_from, envelope_to=rcpt_tos)

    monkeypatch.setattr(smtp, "_store", store)
    yield
    shared.dec_thread_sharing()


@pytest.fixture
def smtp_listener() -> Iterator[Any]:
    controller = listener(host="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def self_signed(tmp_path: Any) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def client_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
    return context
