"""Inbound webhooks of the providers anymail receives for, each payload built as that provider
sends it (anymail 15.2's own webhook code, AM:anymail/webhooks/<esp>.py, is the contract) and
authenticated as it authenticates: accepted with the right secret, refused without it or with a
wrong or tampered one, stale where the provider signs a timestamp. Nothing is stored when a
request is refused; an accepted one is stored once and becomes a ticket.

Basic auth only (anymail has no signature for them): Amazon SES (SNS; anymail does not check
the SNS signature), Mailjet, Brevo (and its old name Sendinblue), SparkPost. Signed: MailerSend
(HMAC-SHA256 of the body), Postal (RSA-SHA1), Mandrill (HMAC-SHA1 of URL and fields), Resend
(Svix). Mailgun, Postmark and SendGrid are in test_inbound.py. Mailtrap's webhook carries no
message, only an id to fetch from Mailtrap's API: not covered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from billingdesk.inbound.models import InboundMessage

from .conftest import Receipt, reply, wired

pytestmark = pytest.mark.django_db
SECRET = "inbound:s3cret"


def _basic(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _raw(receipt: Receipt, body: str = "Why was I charged twice?") -> str:
    return reply(to=receipt.reply_to, body=body).as_bytes().decode()


# --- Basic-auth providers ---------------------------------------------------------------------
def ses_request(receipt: Receipt) -> tuple[str, dict[str, Any], dict[str, str]]:
    """An SNS Notification carrying an SES "Received" event with the message in it (receipt
    rule action SNS, encoding BASE64)."""
    raw = _raw(receipt)
    ses_event = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-12-06T20:00:00.000Z",
            "source": "client@example.org",
            "messageId": "o3vrnil0e2ic28tr",
            "destination": [receipt.reply_to],
            "commonHeaders": {"from": ["Client <client@example.org>"], "subject": "Re"},
        },
        "receipt": {
            "timestamp": "2026-12-06T20:00:00.000Z",
            "recipients": [receipt.reply_to],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "action": {
                "type": "SNS",
                "topicArn": "arn:aws:sns:us-east-1:123456789012:billing-inbound",
                "encoding": "BASE64",
            },
        },
        "content": base64.b64encode(raw.encode()).decode(),
    }
    message_id = str(uuid.uuid4())
    sns = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:billing-inbound",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-12-06T20:00:00.100Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": message_id,
        "HTTP_X_AMZ_SNS_TOPIC_ARN": sns["TopicArn"],
    }
    return "/anymail/amazon_ses/inbound/", sns, headers


def mailjet_request(receipt: Receipt) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Mailjet's Parse API post: headers as a dict, the parts by reference."""
    msg = reply(to=receipt.reply_to)
    payload = {
        "Sender": "client@example.org",
        "Recipient": receipt.reply_to,
        "Date": "20261206T200000",
        "From": "Client <client@example.org>",
        "Subject": str(msg["Subject"]),
        "Headers": {
            "Message-ID": str(msg["Message-ID"]),
            "From": "Client <client@example.org>",
            "To": receipt.reply_to,
            "Subject": str(msg["Subject"]),
            "Date": "Sun, 6 Dec 2026 20:00:00 +0000",
            "Content-Type": ["multipart/alternative; boundary=x"],
        },
        "Parts": [
            {"Headers": {"Content-Type": "text/plain; charset=UTF-8"}, "ContentRef": "Text-part"}
        ],
        "Text-part": "Why was I charged twice?",
        "SpamAssassinScore": "0.1",
        "CustomID": "",
        "Payload": "",
    }
    return "/anymail/mailjet/inbound/", payload, {}


def brevo_request(
    receipt: Receipt, path: str = "brevo"
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Brevo's parsed-email payload (``items``), as documented by Brevo's inbound parsing."""
    msg = reply(to=receipt.reply_to)
    item = {
        "Uuid": [str(uuid.uuid4())],
        "MessageId": str(msg["Message-ID"]),
        "InReplyTo": None,
        "From": {"Name": "Client", "Address": "client@example.org"},
        "To": [{"Name": None, "Address": receipt.reply_to}],
        "Subject": str(msg["Subject"]),
        "SentAtDate": "Sun, 6 Dec 2026 20:00:00 +0000",
        "Headers": {
            "Message-ID": str(msg["Message-ID"]),
            "From": "Client <client@example.org>",
            "To": receipt.reply_to,
            "Subject": str(msg["Subject"]),
            "Return-Path": "<client@example.org>",
            "Delivered-To": receipt.reply_to,
        },
        "SpamScore": 0.1,
        "ExtractedMarkdownMessage": "Why was I charged twice?",
        "RawTextBody": "Why was I charged twice?\n",
        "RawHtmlBody": "<p>Why was I charged twice?</p>",
        "Attachments": [],
    }
    return f"/anymail/{path}/inbound/", {"items": [item]}, {}


def sparkpost_request(receipt: Receipt) -> tuple[str, dict[str, Any], dict[str, str]]:
    """A SparkPost relay webhook batch: one ``relay_message`` with the raw message."""
    raw = _raw(receipt)
    event = {
        "content": {
            "email_rfc822": raw,
            "email_rfc822_is_base64": False,
            "headers": [{"Subject": "Re: your receipt"}],
            "subject": "Re: your receipt",
            "text": "Why was I charged twice?",
            "to": [receipt.reply_to],
        },
        "customer_id": "1337",
        "friendly_from": "client@example.org",
        "msg_from": "client@example.org",
        "protocol": "smtp",
        "rcpt_to": receipt.reply_to,
        "webhook_id": "639162045765218",
    }
    return "/anymail/sparkpost/inbound/", [{"msys": {"relay_message": event}}], {}  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("esp", "build", "source"),
    [
        ("amazon_ses", ses_request, "amazon_ses"),
        ("mailjet", mailjet_request, "mailjet"),
        ("brevo", brevo_request, "brevo"),
        ("sendinblue", lambda r: brevo_request(r, "sendinblue"), "sendinblue"),
        ("sparkpost", sparkpost_request, "sparkpost"),
    ],
)
def test_basic_auth_providers(
    esp: str,
    build: Callable[[Receipt], tuple[str, Any, dict[str, str]]],
    source: str,
    receipt: Receipt,
    client: Any,
    settings: Any,
    drain_tasks: Any,
) -> None:
    path, payload, headers = build(receipt)
    body = json.dumps(payload)

    def post(**auth: str) -> Any:
        return client.post(path, body, content_type="application/json", **headers, **auth)

    settings.ANYMAIL = {"BREVO_API_KEY": "unused", "SENDINBLUE_API_KEY": "unused"}
    assert post().status_code == 400  # no secret configured: fail closed
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    assert post().status_code in (400, 401)  # no credentials (SES asks for them: 401)
    assert post(**_basic("inbound:wrong")).status_code == 400
    assert not InboundMessage.objects.exists()
    with wired("zendesk") as w:
        assert post(**_basic(SECRET)).status_code == 200
        assert post(**_basic(SECRET)).status_code == 200  # the provider retries: stored once
        row = InboundMessage.objects.get()
        assert row.source == source and row.from_email == "client@example.org"
        assert row.envelope_to == [receipt.reply_to]
        drain_tasks()
        row.refresh_from_db()
        assert row.status == InboundMessage.Status.TICKETED, row.reason
        assert row.matched_by == "token" and row.document_id == receipt.document.pk
        assert "Why was I charged twice?" in json.dumps(w.fake.tickets)


# --- signed providers ----------------------------------------------------------------------
def test_mailersend_signed(receipt: Receipt, client: Any, settings: Any) -> None:
    settings.ANYMAIL = {"MAILERSEND_INBOUND_SECRET": "ms-inbound-secret"}
    raw = _raw(receipt)
    body = json.dumps(
        {
            "type": "inbound.message",
            "inbound_id": "in-1",
            "url": "https://billing.example/anymail/mailersend/inbound/",
            "created_at": "2026-12-06T20:00:00.000000Z",
            "data": {
                "object": "message",
                "id": "6501a0b1c2d3e4f5a6b7c8d9",
                "recipients": {"rcptTo": [{"email": receipt.reply_to}]},
                "from": {"email": "client@example.org", "name": "Client", "raw": "Client"},
                "sender": {"email": "client@example.org"},
                "subject": "Re: your receipt",
                "text": "Why was I charged twice?",
                "raw": raw,
                "attachments": [],
                "created_at": "2026-12-06T20:00:00.000000Z",
            },
        }
    ).encode()

    def post(signature: str | None) -> Any:
        extra = {"HTTP_SIGNATURE": signature} if signature is not None else {}
        return client.post(
            "/anymail/mailersend/inbound/", body, content_type="application/json", **extra
        )

    good = hmac.new(b"ms-inbound-secret", body, hashlib.sha256).hexdigest()
    assert post(None).status_code == 400
    assert post(hmac.new(b"other", body, hashlib.sha256).hexdigest()).status_code == 400
    assert post(good[:-1] + ("0" if good[-1] != "0" else "1")).status_code == 400
    assert not InboundMessage.objects.exists()
    assert post(good).status_code == 200
    row = InboundMessage.objects.get()
    assert row.source == "mailersend" and row.envelope_to == [receipt.reply_to]
    assert row.envelope_from == "client@example.org"


def test_postal_signed(receipt: Receipt, client: Any, settings: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Postal shows its signing public key as the base64 of the DER (what anymail wants)
    settings.ANYMAIL = {"POSTAL_WEBHOOK_KEY": base64.b64encode(der).decode()}
    body = json.dumps(
        {
            "id": 12345,
            "rcpt_to": receipt.reply_to,
            "mail_from": "client@example.org",
            "token": "rtmuzogUauKN",
            "subject": "Re: your receipt",
            "message": base64.b64encode(_raw(receipt).encode()).decode(),
            "base64": True,
            "size": "1234",
        }
    ).encode()

    def sign(private: Any, data: bytes) -> str:
        return base64.b64encode(private.sign(data, padding.PKCS1v15(), hashes.SHA1())).decode()

    def post(signature: str | None, data: bytes = body) -> Any:
        extra = {"HTTP_X_POSTAL_SIGNATURE": signature} if signature is not None else {}
        return client.post(
            "/anymail/postal/inbound/", data, content_type="application/json", **extra
        )

    assert post(None).status_code == 400
    assert post(sign(other, body)).status_code == 400
    tampered = body.replace(b"client@example.org", b"mallory@example.org")
    assert post(sign(key, body), tampered).status_code == 400
    assert not InboundMessage.objects.exists()
    assert post(sign(key, body)).status_code == 200
    row = InboundMessage.objects.get()
    assert row.source == "postal" and row.envelope_from == "client@example.org"


def test_mandrill_signed(receipt: Receipt, client: Any, settings: Any) -> None:
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": "md-webhook-key"}
    url = "http://testserver/anymail/mandrill/"
    events = json.dumps(
        [
            {
                "event": "inbound",
                "ts": int(time.time()),
                "msg": {
                    "raw_msg": _raw(receipt),
                    "email": receipt.reply_to,
                    "from_email": "client@example.org",
                    "subject": "Re: your receipt",
                    "spam_report": {"score": 0.1},
                },
            }
        ]
    )

    def signature(key: bytes, fields: dict[str, str]) -> str:
        signed = url + "".join(k + fields[k] for k in sorted(fields))
        return base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha1).digest()).decode()

    fields = {"mandrill_events": events}
    post = lambda sig, data=fields: client.post(  # noqa: E731
        "/anymail/mandrill/", data, **({"HTTP_X_MANDRILL_SIGNATURE": sig} if sig else {})
    )
    assert post(None).status_code == 400
    assert post(signature(b"wrong-key", fields)).status_code == 400
    tampered = {"mandrill_events": events.replace("client@example.org", "mallory@example.org")}
    assert post(signature(b"md-webhook-key", fields), tampered).status_code == 400
    assert not InboundMessage.objects.exists()
    assert post(signature(b"md-webhook-key", fields)).status_code == 200
    row = InboundMessage.objects.get()
    assert row.source == "mandrill" and row.envelope_to == [receipt.reply_to]


@contextmanager
def resend_api(raw: bytes, api_key: str) -> Iterator[tuple[str, list[str]]]:
    """Resend's received-emails API: ``GET /emails/receiving/{id}`` (Bearer key) names a
    download URL for the raw message."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/emails/receiving/"):
                if self.headers.get("Authorization") != f"Bearer {api_key}":
                    self._send(401, b'{"name": "validation_error"}', "application/json")
                    return
                email_id = self.path.rsplit("/", 1)[-1]
                base = f"http://127.0.0.1:{server.server_address[1]}"
                data = {
                    "object": "email",
                    "id": email_id,
                    "raw": {"download_url": f"{base}/raw/{email_id}", "expires_at": "x"},
                }
                self._send(200, json.dumps(data).encode(), "application/json")
            elif self.path.startswith("/raw/"):
                self._send(200, raw, "message/rfc822")
            else:
                self._send(404, b"{}", "application/json")

        def _send(self, status: int, data: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


def test_resend_svix_signed_tampered_stale(receipt: Receipt, client: Any, settings: Any) -> None:
    key = b"resend-svix-signing-key-32-bytes"
    secret = "whsec_" + base64.b64encode(key).decode()
    body = json.dumps(
        {
            "type": "email.received",
            "created_at": "2026-12-06T20:00:00.000Z",
            "data": {
                "email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
                "from": "Client <client@example.org>",
                "to": [receipt.reply_to],
                "subject": "Re: your receipt",
            },
        }
    ).encode()

    def svix(msg_id: str, timestamp: int, data: bytes, signing_key: bytes = key) -> dict[str, str]:
        signed = f"{msg_id}.{timestamp}.".encode() + data
        sig = base64.b64encode(hmac.new(signing_key, signed, hashlib.sha256).digest()).decode()
        return {
            "HTTP_SVIX_ID": msg_id,
            "HTTP_SVIX_TIMESTAMP": str(timestamp),
            "HTTP_SVIX_SIGNATURE": f"v1,{sig}",
        }

    def post(headers: dict[str, str], data: bytes = body) -> Any:
        return client.post(
            "/anymail/resend/inbound/", data, content_type="application/json", **headers
        )

    with resend_api(_raw(receipt).encode(), "re_api_key") as (api_url, seen):
        # no signing secret and no Basic auth: refused (anymail alone would accept it)
        settings.ANYMAIL = {"RESEND_API_KEY": "re_api_key", "RESEND_API_URL": api_url}
        assert post({}).status_code == 400
        settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_INBOUND_SECRET": secret}
        now = int(time.time())
        assert post({}).status_code == 400
        assert (
            post(svix("msg_1", now, body, b"another-key-another-key-32bytes!")).status_code == 400
        )
        tampered = body.replace(b"client@example.org", b"mallory@example.org")
        assert post(svix("msg_1", now, body), tampered).status_code == 400
        assert post(svix("msg_1", now - 3600, body)).status_code == 400  # stale
        assert not InboundMessage.objects.exists() and not seen
        assert post(svix("msg_1", now, body)).status_code == 200
        assert seen == [
            "/emails/receiving/4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
            "/raw/4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
        ]
    row = InboundMessage.objects.get()
    assert row.source == "resend" and row.from_email == "client@example.org"
