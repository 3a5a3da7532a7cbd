"""Card numbers masked (Luhn, spaced or dashed, in any MIME encoding); routing tokens signed."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from billingdesk.core.mailroute import address_is_ours, address_route, reply_address, route_verify
from billingdesk.inbound.pan import luhn_valid, redact
from billingdesk.inbound.parse import html_to_text, parse, redact_bytes, redact_mime, reply_text


@pytest.mark.parametrize(
    "text",
    [
        "my card 4111111111111111 thanks",
        "my card 4242 4242 4242 4242 thanks",
        "my card 5555-5555-5555-4444 thanks",
        "amex 3782 822463 10005 thanks",
        "mc2 2223003122003222 thanks",
        "card 4111 1111 1111 1111 123 (cvc after it)",
    ],
)
def test_valid_cards_are_masked_keeping_last_four(text: str) -> None:
    new, count = redact(text)
    assert count == 1
    digits = "".join(c for c in new if c.isdigit())
    assert "removed, ending" in new
    assert len(digits) <= 7  # the last four, and at most a cvc left beside it
    assert "thanks" in new or "cvc" in new


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112",  # Luhn fails
        "call +4111111111111111",  # a phone number
        "ref 1234567890123452",  # no card brand starts with 1
        "invoice F-2026-000123 of 12000 cents",
        "id 41111111111111111111111",  # longer than any card
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == (text, 0)


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_redact_mime_covers_quoted_printable_base64_and_subject() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["To"] = "billing@reply.example"
    msg["Subject"] = "card 4242 4242 4242 4242"
    msg.set_content("Here it is: 4111-1111-1111-1111 é", cte="quoted-printable")
    msg.add_attachment(
        b"note: 5555555555554444\n", maintype="text", subtype="plain", filename="note.txt"
    )
    raw = msg.as_bytes()
    assert base64.b64encode(b"note: 5555555555554444\n") in raw
    out, count = redact_mime(raw)
    assert count == 3
    for pan in ("4242", "4111", "5555555555554444", base64.b64encode(b"5555555555554444")[:12]):
        assert (pan if isinstance(pan, bytes) else pan.encode()) not in out.replace(
            b"ending 4242", b""
        ).replace(b"ending 1111", b"").replace(b"ending 4444", b"")
    parsed = parse(out)
    assert "ending 1111" in parsed.text and "é" in parsed.text
    assert "ending 4242" in parsed.header("Subject")


def test_message_ids_and_boundaries_are_not_taken_for_cards() -> None:
    """make_msgid's random part and email's random boundary are Luhn-valid one time in ten:
    masking them broke threading (In-Reply-To no longer named the receipt) and MIME."""
    luhn_id = "<176500000012.4242.4111111111111111.doc5@shop.example>"
    boundary = "===============4012888888881881=="
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["To"] = "billing@reply.example"
    msg["Message-ID"] = "<5555555555554444@example.org>"
    msg["In-Reply-To"] = luhn_id
    msg["References"] = "<older@shop.example> " + luhn_id
    msg.set_content("my card 4242 4242 4242 4242")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    msg.set_boundary(boundary)
    out, count = redact_mime(msg.as_bytes())
    assert count == 1  # the card in the text, nothing else
    parsed = parse(out)
    assert parsed.message_ids("In-Reply-To") == [luhn_id]
    assert parsed.message_ids("References")[-1] == luhn_id
    assert parsed.header("Message-ID") == "<5555555555554444@example.org>"
    assert parsed.message.get_boundary() == boundary
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert "4242 4242" not in parsed.text and "ending 4242" in parsed.text
    # The same on a cut message masked on its bytes alone
    cut, count = redact_bytes(msg.as_bytes()[:-40])
    assert count == 1 and luhn_id.encode() in cut and boundary.encode() in cut


def test_unparseable_bytes_are_masked_on_the_bytes() -> None:
    out, count = redact_mime(b"\x00\xff garbage 4111111111111111 \xfe")
    assert count == 1 and b"4111111111111111" not in out


def test_reply_text_and_html() -> None:
    text = "Why twice?\n\nAna\n-- \nAna Lopez, CEO\n\nOn Mon, 1 Dec, Acme wrote:\n> receipt"
    assert reply_text(text) == "Why twice?\n\nAna"
    assert reply_text("Pourquoi ?\nLe lun. 1 déc., Acme a écrit :\n> reçu") == "Pourquoi ?"
    html = "<html><head><style>p{}</style></head><body><p>Hello&nbsp;there</p><p>Bye</p></body>"
    assert html_to_text(html) == "Hello there\n\nBye"


def test_routing_token_round_trip_tamper_and_rotation(settings) -> None:
    settings.BILLINGDESK_INBOUND_DOMAIN = "reply.example"
    settings.BILLINGDESK_INBOUND_KEYS = ["old-key"]
    address = reply_address(42, 7)
    local = address.split("@")[0]
    assert local.startswith("billing+") and len(local) <= 64
    token = local.split("+", 1)[1]
    assert route_verify(token).document_id == 42 and route_verify(token).person_id == 7
    assert address_route(address.upper()) is not None  # an MTA may fold the case
    # another document's id with this mac is refused
    forged = "2b" + token[token.index(".") :]
    assert route_verify(forged) is None
    assert route_verify(token[:-1] + ("a" if token[-1] != "a" else "b")) is None
    # rotation: the new key signs, the old one still verifies until it is removed
    settings.BILLINGDESK_INBOUND_KEYS = ["new-key", "old-key"]
    assert route_verify(token) is not None
    assert reply_address(42, 7) != address
    settings.BILLINGDESK_INBOUND_KEYS = ["new-key"]
    assert route_verify(token) is None
    assert address_is_ours("billing@reply.example")
    assert not address_is_ours("someone@reply.example")
    assert not address_is_ours(address.replace("reply.example", "other.example"))
    settings.BILLINGDESK_INBOUND_DOMAIN = ""
    assert reply_address(42, 7) == ""
