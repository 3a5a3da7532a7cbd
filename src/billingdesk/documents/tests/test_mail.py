"""Email delivery through a real SMTP server (aiosmtpd on localhost) and Django's SMTP backend."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from billingdesk.core.errors import GatewayUnavailable
from billingdesk.documents.mail import document_send
from billingdesk.documents.models import Document

from .conftest import profile_set, shop_create

pytestmark = pytest.mark.django_db


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[_Inbox]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


def test_document_email_has_pdf_text_html_message_id_and_reply_to(smtp, drain_tasks):
    shop = shop_create("FR", language="fr")
    charge = shop.pay(amount=12000, country="FR", email="client@example.org")
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    assert len(smtp.messages) == 1
    mail_from, rcpt, raw = smtp.messages[0]
    assert (mail_from, rcpt) == ("billing@acme.example", ["client@example.org"])
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Message-ID"] == doc.message_id
    assert msg["Reply-To"] == "help@acme.example"
    assert msg["X-Billingdesk-Document"] == str(doc.pk)
    assert msg["Subject"] == f"Facture {doc.number} — {shop.brand.name}"
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Merci pour votre paiement" in plain and "120,00" in plain
    assert "<html" in html and doc.number in html
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [doc.filename]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == bytes(doc.pdf)


def test_opt_out_is_respected_automatically_but_an_agent_can_resend(smtp, drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE", email="kunde@example.org")
    profile_set(charge.customer, receipts_opt_out=True)
    drain_tasks()
    assert smtp.messages == []
    doc = Document.objects.get(charge=charge)
    assert document_send(document_id=doc.pk) == "sent to kunde@example.org"
    assert len(smtp.messages) == 1
    doc.refresh_from_db()
    assert doc.emailed_at is not None


def test_a_mail_server_outage_is_operational_and_recorded(settings, drain_tasks):
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    profile_set(charge.customer, receipts_opt_out=True)
    drain_tasks()
    doc = Document.objects.get(charge=charge)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 5
    with pytest.raises(GatewayUnavailable):
        document_send(document_id=doc.pk)
    doc.refresh_from_db()
    assert doc.email_error and doc.emailed_at is None
