"""Replies to documents, received for real (SMTP/LMTP sockets, signed provider webhooks),
stored first, then processed into a helpdesk fake by the real ticket clients."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection

from billingdesk.documents.models import DocumentEmail
from billingdesk.helpdesks.tests.test_tickets import _note_texts
from billingdesk.inbound.intake import message_store
from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.processing import message_process, message_retry
from billingdesk.inbound.recovery import inbound_sweep
from billingdesk.inbound.smtp import listener, tls_context

from .conftest import DOMAIN, Receipt, client_tls, free_port, reply, self_signed, wired

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status


def _send(controller: Any, msg: Any, *, sender: str = "client@example.org") -> None:
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        client.send_message(msg, from_addr=sender, to_addrs=[str(msg["To"])])


def test_receipt_reply_to_is_a_signed_routing_address(receipt: Receipt) -> None:
    assert receipt.reply_to.startswith("billing+") and receipt.reply_to.endswith("@" + DOMAIN)
    sent = DocumentEmail.objects.get(document=receipt.document)
    assert sent.message_id == receipt.message_id and sent.reply_to == receipt.reply_to


def test_smtp_reply_becomes_ticket_with_context_and_second_reply_threads(
    receipt: Receipt, smtp_listener: Any, drain_tasks: Any, no_sleep: Any
) -> None:
    with wired("zendesk") as w:
        _send(smtp_listener, reply(to=receipt.reply_to, in_reply_to=receipt.message_id))
        # stored before the 250 was answered
        row = InboundMessage.objects.get()
        assert row.status == Status.RECEIVED and row.source == "smtp"
        assert row.envelope_to == [receipt.reply_to]
        drain_tasks()
        row.refresh_from_db()
        assert row.status == Status.TICKETED, row.reason
        assert row.matched_by == "token" and row.document_id == receipt.document.pk
        ticket = w.fake.tickets[int(row.ticket_id)]
        assert "Why was I charged twice?" in json.dumps(ticket)
        # the part shown first is the reply, without the quoted receipt
        assert "Thank you for your payment" not in json.dumps(ticket["comments"][0])
        notes = _note_texts("zendesk", w.fake, row.ticket_id)
        assert len(notes) == 1
        assert receipt.document.number in notes[0] and "120.00" in notes[0]
        assert f"/console/person/{receipt.document.person_id}/" in notes[0]

        # A second reply, to the bare address, threads by In-Reply-To onto the same ticket
        second = reply(
            to=f"billing@{DOMAIN}", body="Still waiting.", in_reply_to=receipt.message_id
        )
        _send(smtp_listener, second)
        drain_tasks()
        row2 = InboundMessage.objects.exclude(pk=row.pk).get()
        assert row2.status == Status.TICKETED and row2.matched_by == "thread", row2.reason
        assert row2.ticket_id == row.ticket_id
        assert len(w.fake.tickets) == 1
        notes = _note_texts("zendesk", w.fake, row.ticket_id)
        assert len(notes) == 2 and "Still waiting." in notes[1]

        # The same message delivered again (an MTA retry) is stored once, ticketed once
        _send(smtp_listener, second)
        drain_tasks()
        assert InboundMessage.objects.count() == 2
        assert len(_note_texts("zendesk", w.fake, row.ticket_id)) == 2


def test_thread_match_survives_a_luhn_valid_message_id(receipt: Receipt, drain_tasks: Any) -> None:
    """The cause of the old threading flake: the receipt's Message-ID (make_msgid's random
    part) passed the Luhn test, the card masking rewrote it in the reply's In-Reply-To, and
    the reply fell through to matching by sender. Here such an id, every time."""
    luhn_id = f"<176500000012.4242.4111111111111111.doc{receipt.document.pk}@shop.example>"
    DocumentEmail.objects.filter(document=receipt.document).update(message_id=luhn_id)
    with wired("freshdesk"):
        message_store(
            reply(to=f"billing@{DOMAIN}", in_reply_to=luhn_id).as_bytes(),
            source="smtp",
            envelope_from="client@example.org",
        )
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED and row.matched_by == "thread", row.reason
        assert row.document_id == receipt.document.pk


def test_recipient_checked_at_rcpt_and_size_limited(
    receipt: Receipt, settings: Any, db: None
) -> None:
    settings.BILLINGDESK_INBOUND_MAX_BYTES = 64 * 1024
    controller = listener(host="127.0.0.1", port=free_port())
    controller.start()
    try:
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("size") and client.esmtp_features["size"] == str(64 * 1024)
            code, _ = client.mail("client@example.org")
            assert code == 250
            assert client.rcpt(f"someone@{DOMAIN}")[0] == 550
            assert client.rcpt("billing+1.1.aaaaaaaaaaaaaaaa@" + DOMAIN)[0] == 550  # forged
            assert client.rcpt("billing@elsewhere.example")[0] == 550
            assert client.rcpt(receipt.reply_to)[0] == 250
            big = reply(to=receipt.reply_to, body=("x" * 70 + "\n") * 1500)
            answer = client.data(big.as_bytes())
            # 552 "Too much mail data"; aiosmtpd sometimes reports the discarded overflow
            # as 500 "Line too long" instead: either way a permanent refusal, nothing stored
            assert answer[0] in (500, 552), answer
    finally:
        controller.stop()
    assert not InboundMessage.objects.exists()


def test_lmtp(receipt: Receipt) -> None:
    port = free_port()
    controller = listener(host="127.0.0.1", port=port, lmtp=True)
    controller.start()
    try:
        with smtplib.LMTP("127.0.0.1", port) as client:
            assert client.rcpt  # an LMTP session: LHLO, one reply per recipient
            refused = client.send_message(reply(to=receipt.reply_to), from_addr="a@example.org")
            assert refused == {}
    finally:
        controller.stop()
    assert InboundMessage.objects.get().source == "lmtp"


def test_starttls_offered_and_required(receipt: Receipt, tmp_path: Any) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    controller = listener(
        host="127.0.0.1", port=port, tls=tls_context(cert, key), require_starttls=True
    )
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            assert client.mail("client@example.org")[0] == 530  # refused before TLS
            client.starttls(context=client_tls())
            client.ehlo()
            refused = client.send_message(reply(to=receipt.reply_to), from_addr="a@example.org")
            assert refused == {}
    finally:
        controller.stop()
    assert InboundMessage.objects.get().source == "smtp"


def test_crash_between_store_and_process_is_recovered(
    receipt: Receipt, drain_tasks: Any, no_sleep: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with wired("freshdesk") as w:
        row, created = message_store(
            reply(to=receipt.reply_to).as_bytes(), source="smtp", envelope_from="client@example.org"
        )
        assert created
        DBTaskResult.objects.all().delete()  # the job is lost with its worker
        drain_tasks()
        row.refresh_from_db()
        assert row.status == Status.RECEIVED
        assert inbound_sweep(older_than=0) == 1
        assert inbound_sweep(older_than=0) == 0  # its job is queued now
        drain_tasks()
        row.refresh_from_db()
        assert row.status == Status.TICKETED, row.reason
        assert len(w.fake.tickets) == 1


def test_helpdesk_outage_then_recovery(receipt: Receipt, drain_tasks: Any, no_sleep: Any) -> None:
    with wired("zendesk") as w:
        w.fake.fail_next("/api/v2/tickets", 503, times=10)
        row, _ = message_store(
            reply(to=receipt.reply_to).as_bytes(), source="smtp", envelope_from="client@example.org"
        )
        outcome, retry_in = message_process(row.pk)
        assert "retry" in outcome and retry_in == 30
        row.refresh_from_db()
        assert row.status == Status.RECEIVED and row.attempts == 1 and not w.fake.tickets
        w.fake.fail_next("/api/v2/tickets", 503, times=0)
        w.fake.failures.clear() if hasattr(w.fake, "failures") else None
        outcome, retry_in = message_process(row.pk)
        row.refresh_from_db()
        assert row.status == Status.TICKETED, (outcome, row.reason)
        assert len(w.fake.tickets) == 1


@pytest.mark.parametrize(
    ("headers", "envelope_from", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "client@example.org", "auto-reply"),
        ({"X-Autoreply": "yes"}, "client@example.org", "auto-reply"),
        ({"Precedence": "bulk"}, "client@example.org", "bulk"),
        ({"List-Id": "<news.example.org>"}, "client@example.org", "bulk"),
        ({}, "", "bounce"),
    ],
)
def test_auto_replies_and_bounces_are_recorded_not_ticketed(
    receipt: Receipt, drain_tasks: Any, headers: dict[str, str], envelope_from: str, reason: str
) -> None:
    with wired("zendesk") as w:
        msg = reply(to=receipt.reply_to, headers=headers)
        message_store(msg.as_bytes(), source="smtp", envelope_from=envelope_from)
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.IGNORED and row.reason.startswith(reason)
        assert not w.fake.tickets


def test_dsn_and_our_own_message_are_ignored(receipt: Receipt, drain_tasks: Any) -> None:
    from email.message import EmailMessage

    dsn = EmailMessage()
    dsn["From"] = "MAILER-DAEMON@mx.example.org"
    dsn["To"] = receipt.reply_to
    dsn["Subject"] = "Undelivered Mail Returned to Sender"
    dsn["Message-ID"] = "<dsn-1@mx.example.org>"
    dsn.set_content("delivery failed")
    dsn.add_attachment(
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; x@example.org\n"
        "Action: failed\nStatus: 5.1.1\n",
        subtype="plain",
    )
    dsn.replace_header(
        "Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"'
    )
    own = reply(to=receipt.reply_to)
    own.replace_header("Message-ID", receipt.message_id)
    with wired("zendesk") as w:
        message_store(dsn.as_bytes(), source="smtp", envelope_from="bounce@mx.example.org")
        message_store(own.as_bytes(), source="smtp", envelope_from="client@example.org")
        drain_tasks()
        reasons = sorted(InboundMessage.objects.values_list("status", "reason"))
        assert [s for s, _ in reasons] == [Status.IGNORED, Status.IGNORED]
        assert any("our own Message-ID" in r for _, r in reasons)
        assert not w.fake.tickets


def test_rate_limit_per_sender(receipt: Receipt, drain_tasks: Any, settings: Any) -> None:
    settings.BILLINGDESK_INBOUND_RATE_PER_HOUR = 2
    with wired("freshdesk") as w:
        for n in range(3):
            message_store(
                reply(to=receipt.reply_to, body=f"message {n}").as_bytes(),
                source="smtp",
                envelope_from="client@example.org",
            )
            drain_tasks()
        statuses = list(InboundMessage.objects.order_by("pk").values_list("status", flat=True))
        assert statuses == [Status.TICKETED, Status.TICKETED, Status.IGNORED]
        assert len(w.fake.tickets) == 1


def test_unknown_sender_becomes_unmatched_ticket(receipt: Receipt, drain_tasks: Any) -> None:
    with wired("freshdesk") as w:
        message_store(
            reply(to=f"billing@{DOMAIN}", sender="stranger@example.net").as_bytes(),
            source="smtp",
            envelope_from="stranger@example.net",
        )
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED and row.matched_by == "unmatched"
        assert "unmatched" in json.dumps(w.fake.tickets)


def test_forwarded_reply_gets_no_other_persons_context(receipt: Receipt, drain_tasks: Any) -> None:
    with wired("freshdesk") as w:
        message_store(
            reply(to=receipt.reply_to, sender="accountant@example.net").as_bytes(),
            source="smtp",
            envelope_from="accountant@example.net",
        )
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED and row.matched_by == "token"
        dumped = json.dumps(w.fake.tickets)
        assert receipt.document.number not in dumped and "no billing context" in dumped


def _all_text_in_database() -> str:
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for record in cursor.fetchall():
                for value in record:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value).decode("latin-1"))
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_card_numbers_never_reach_the_database_or_the_helpdesk(
    receipt: Receipt, smtp_listener: Any, drain_tasks: Any
) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "client@example.org"
    msg["To"] = receipt.reply_to
    msg["Subject"] = "new card 4111 1111 1111 1111"
    msg["Message-ID"] = "<pan-1@example.org>"
    msg.set_content(
        "Please charge 5555-5555-5555-4444 instead. Not 4111111111111112.", cte="quoted-printable"
    )
    msg.add_alternative("<p>Or 378282246310005</p>", subtype="html", cte="base64")
    with wired("zendesk") as w:
        _send(smtp_listener, msg)
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED and row.pan_redacted
        everything = _all_text_in_database()
        fake_seen = json.dumps([c.body for c in w.fake.seen]) if hasattr(w.fake, "seen") else ""
        fake_seen += json.dumps(w.fake.tickets)
        for pan in (
            "4111111111111111",
            "4111 1111 1111 1111",
            "5555555555554444",
            "5555-5555-5555-4444",
            "378282246310005",
        ):
            assert pan not in everything
            assert pan not in fake_seen
        assert "4111111111111112" in fake_seen  # not a card: left as written
        assert "card number was removed" in fake_seen and "billing link by email" in fake_seen
        assert "ending 4444" in fake_seen
        # the customer is told, in the document's language, and given their billing link
        notice = [
            m for m in mail.outbox if m.to == ["client@example.org"] and "/billing/link/" in m.body
        ]
        assert len(notice) == 1
        assert notice[0].subject == "Votre numéro de carte a été retiré de votre message"
        assert notice[0].extra_headers["Auto-Submitted"] == "auto-replied"
        assert "4111" not in notice[0].body


def test_bad_mime_is_recorded_never_lost(receipt: Receipt, drain_tasks: Any, settings: Any) -> None:
    with wired("freshdesk") as w:
        # unknown charset: read anyway
        odd = (
            b"From: client@example.org\r\nTo: billing@" + DOMAIN.encode() + b"\r\n"
            b"Subject: charset\r\nMessage-ID: <odd@example.org>\r\n"
            b"Content-Type: text/plain; charset=x-unknown\r\n\r\n"
            b"Pourquoi \xe9t\xe9 d\xe9bit\xe9 ?\r\n"
        )
        message_store(odd, source="smtp", envelope_from="client@example.org")
        # no headers at all
        message_store(b"\r\n\r\ngarbage", source="smtp", envelope_from="client@example.org")
        # truncated multipart
        cut = reply(to=receipt.reply_to).as_bytes()
        msg = reply(to=receipt.reply_to)
        msg.add_attachment(b"%PDF" * 1000, maintype="application", subtype="pdf", filename="a.pdf")
        cut = msg.as_bytes()[: len(msg.as_bytes()) // 2]
        message_store(cut, source="smtp", envelope_from="client@example.org")
        # too large (a provider webhook has no SIZE to refuse it)
        settings.BILLINGDESK_INBOUND_MAX_BYTES = 64 * 1024
        msg = reply(to=receipt.reply_to, subject="huge")
        msg.add_attachment(b"\0" * (200 * 1024), maintype="application", subtype="octet-stream")
        big, _ = message_store(msg.as_bytes(), source="postmark")
        drain_tasks()
        rows = {r.subject or r.message_id: r for r in InboundMessage.objects.all()}
        assert rows["charset"].status == Status.TICKETED
        assert "débité" in json.dumps(w.fake.tickets, ensure_ascii=False)
        garbage = InboundMessage.objects.get(subject="", raw_size=11)
        assert garbage.status == Status.FAILED and "no headers" in garbage.reason
        big.refresh_from_db()
        assert big.status == Status.FAILED and "too large" in big.reason
        assert len(bytes(big.raw)) == 64 * 1024 and big.raw_size > 200 * 1024
        assert InboundMessage.objects.count() == 4
        # an administrator re-runs a failure after fixing the cause
        settings.BILLINGDESK_INBOUND_MAX_BYTES = 10 * 2**20
        assert message_retry(garbage.pk)
        drain_tasks()
        garbage.refresh_from_db()
        assert garbage.status == Status.FAILED  # still unreadable: recorded again


# --- provider webhooks through django-anymail ------------------------------------------------
def _mailgun_post(client: Any, raw: bytes, key: str, *, timestamp: int, tamper: bool = False):
    token = "t" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if tamper:
        signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    return client.post(
        "/anymail/mailgun/inbound_mime/",
        {
            "body-mime": raw.decode(),
            "timestamp": str(timestamp),
            "token": token,
            "signature": signature,
            "recipient": f"billing@{DOMAIN}",
            "sender": "client@example.org",
        },
    )


def test_mailgun_inbound_signed_tampered_stale(
    receipt: Receipt, client: Any, settings: Any, drain_tasks: Any
) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mg-signing-key"}
    raw = reply(to=receipt.reply_to).as_bytes()
    bad = _mailgun_post(client, raw, "mg-signing-key", timestamp=int(time.time()), tamper=True)
    assert bad.status_code == 400
    stale = _mailgun_post(client, raw, "mg-signing-key", timestamp=int(time.time()) - 3600)
    assert stale.status_code == 400
    assert not InboundMessage.objects.exists()
    with wired("zendesk") as w:
        ok = _mailgun_post(client, raw, "mg-signing-key", timestamp=int(time.time()))
        assert ok.status_code == 200
        row = InboundMessage.objects.get()
        assert row.source == "mailgun" and row.envelope_from == "client@example.org"
        drain_tasks()
        row.refresh_from_db()
        assert row.status == Status.TICKETED and row.matched_by == "token"
        assert len(w.fake.tickets) == 1


def test_postmark_and_sendgrid_need_basic_auth(
    receipt: Receipt, client: Any, settings: Any
) -> None:
    import base64

    raw = reply(to=receipt.reply_to).as_bytes().decode()
    payload = {
        "FromFull": {"Email": "client@example.org", "Name": "Client"},
        "OriginalRecipient": receipt.reply_to,
        "Headers": [{"Name": "Return-Path", "Value": "<client@example.org>"}],
        "RawEmail": raw,
    }
    # no secret configured: refused, fail closed
    settings.ANYMAIL = {}
    response = client.post(
        "/anymail/postmark/inbound/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 400
    settings.ANYMAIL = {"WEBHOOK_SECRET": "inbound:s3cret"}
    wrong = "Basic " + base64.b64encode(b"inbound:wrong").decode()
    response = client.post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=wrong,
    )
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    good = "Basic " + base64.b64encode(b"inbound:s3cret").decode()
    response = client.post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=good,
    )
    assert response.status_code == 200
    row = InboundMessage.objects.get()
    assert row.source == "postmark" and row.envelope_to == [receipt.reply_to]
    other = reply(to=receipt.reply_to, body="via sendgrid").as_bytes().decode()
    response = client.post(
        "/anymail/sendgrid/inbound/",
        {
            "email": other,
            "envelope": json.dumps({"from": "client@example.org", "to": [receipt.reply_to]}),
        },
        HTTP_AUTHORIZATION=good,
    )
    assert response.status_code == 200
    assert InboundMessage.objects.filter(source="sendgrid").count() == 1
