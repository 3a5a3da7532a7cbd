"""What reaches each helpdesk: the files of a reply (PAN-safe, within limits, the original
attached), the second reply on the same ticket, and no duplicate ticket after a crash
between the helpdesk's create and the record of its id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billingdesk.helpdesks.models import HelpdeskTicket
from billingdesk.helpdesks.registry import provider_for
from billingdesk.helpdesks.tests.conftest import TICKET_KINDS
from billingdesk.helpdesks.tests.test_tickets import _note_texts
from billingdesk.inbound.intake import message_store
from billingdesk.inbound.models import InboundMessage
from billingdesk.inbound.processing import message_process

from .conftest import Receipt, reply, wired

pytestmark = pytest.mark.django_db
Status = InboundMessage.Status
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + bytes(range(256)) * 4


def _tickets(kind: str, fake: Any) -> int:
    store = {
        "zendesk": "tickets",
        "helpscout": "conversations",
        "intercom": "conversations",
        "front": "comments",
        "freshdesk": "tickets",
        "chatwoot": "conversations",
        "zammad": "tickets",
        "freescout": "conversations",
    }[kind]
    return len(getattr(fake, store))


def _note_files(kind: str, fake: Any, ticket_id: str) -> list[dict[str, Any]]:
    """The files on the latest private note the fake holds for a ticket."""
    if kind == "zendesk":
        comments = [c for c in fake.tickets[int(ticket_id)]["comments"] if c.get("public") is False]
        return list(comments[-1].get("attachments", []))
    if kind == "helpscout":
        return list(fake.conversations[int(ticket_id)]["notes"][-1]["_files"])
    if kind == "front":
        return list(fake.comments[ticket_id][-1].get("_files", []))
    if kind == "freshdesk":
        return list(fake.tickets[int(ticket_id)]["notes"][-1].get("_files", []))
    if kind == "chatwoot":
        return list(fake.conversations[int(ticket_id)]["messages"][-1].get("_files", []))
    # Intercom's API takes attachment URLs only; Zammad's and FreeScout's files: not sent yet.
    return []


def _with_files(receipt: Receipt, **kwargs: Any) -> bytes:
    msg = reply(to=receipt.reply_to, **kwargs)
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="statement.pdf")
    msg.add_attachment(
        b"date,card\n2026-12-01,4111 1111 1111 1111\n",
        maintype="application",
        subtype="octet-stream",
        filename="export.csv",
    )
    return msg.as_bytes()


@pytest.mark.parametrize("kind", TICKET_KINDS)
def test_files_forwarded_and_second_reply_on_the_same_ticket(
    kind: str, receipt: Receipt, drain_tasks: Any, no_sleep: Any
) -> None:
    with wired(kind) as w:
        message_store(_with_files(receipt), source="smtp", envelope_from="client@example.org")
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED, row.reason
        everything = json.dumps(w.fake.__dict__, default=str)
        assert "4111 1111 1111 1111" not in everything and "4111111111111111" not in everything
        files = {f["filename"]: f for f in _note_files(kind, w.fake, row.ticket_id)}
        note = _note_texts(kind, w.fake, row.ticket_id)[0]
        assert receipt.document.number in note
        if provider_for(kind).client_class.attachment_limit:  # type: ignore[union-attr]
            assert set(files) == {
                f"message-{row.pk}.eml",
                "statement.pdf",
                "export.csv.removed.txt",
            }
            assert files["statement.pdf"]["content"].encode("latin-1") == PDF
            assert files["statement.pdf"]["content_type"] == "application/pdf"
            eml = files[f"message-{row.pk}.eml"]["content"]
            assert "Why was I charged twice?" in eml and "Thank you for your payment" in eml
            assert "was removed before it was stored" in files["export.csv.removed.txt"]["content"]
            assert "attached to the billing note" in everything
        else:
            assert not files and "takes no files" in everything
        # The customer answers again: onto the same ticket, as a note with the context
        message_store(
            reply(to=receipt.reply_to, body="Still waiting.").as_bytes(),
            source="smtp",
            envelope_from="client@example.org",
        )
        drain_tasks()
        second = InboundMessage.objects.exclude(pk=row.pk).get()
        assert second.status == Status.TICKETED and second.reason == "added to ticket"
        assert second.ticket_id == row.ticket_id and _tickets(kind, w.fake) == 1
        notes = _note_texts(kind, w.fake, row.ticket_id)
        assert len(notes) == 2 and "Still waiting." in notes[1]
        assert receipt.document.number in notes[1]


def test_files_beyond_the_limits_stay_with_the_stored_message(
    receipt: Receipt, drain_tasks: Any, settings: Any
) -> None:
    settings.BILLINGDESK_INBOUND_ATTACHMENT_MAX_BYTES = 100_000
    msg = reply(to=receipt.reply_to)
    msg.add_attachment(
        b"\x89PNG" + b"\1" * 200_000, maintype="image", subtype="png", filename="big.png"
    )
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="small.pdf")
    with wired("freshdesk") as w:
        message_store(msg.as_bytes(), source="smtp", envelope_from="client@example.org")
        drain_tasks()
        row = InboundMessage.objects.get()
        assert row.status == Status.TICKETED, row.reason
        # the original (with big.png in it) is itself too large for one file: kept back too
        names = {f["filename"] for f in _note_files("freshdesk", w.fake, row.ticket_id)}
        assert names == {"small.pdf"}
        description = w.fake.tickets[int(row.ticket_id)]["description"]
        assert "big.png" in description and "more than the helpdesk takes" in description
        assert f"message-{row.pk}.eml" in description


@pytest.mark.parametrize("kind", ["zendesk", "helpscout", "freshdesk", "front", "chatwoot"])
def test_crash_between_helpdesk_create_and_record_opens_one_ticket(
    kind: str, receipt: Receipt, monkeypatch: pytest.MonkeyPatch, settings: Any, no_sleep: Any
) -> None:
    client_class = provider_for(kind).client_class
    assert client_class is not None
    original = client_class.ticket_create
    opened: list[str] = []

    def create_then_die(self: Any, draft: Any) -> Any:
        ref = original(self, draft)
        opened.append(ref.ticket_id)
        raise SystemExit("worker killed after the helpdesk answered")

    with wired(kind) as w:
        row, _ = message_store(
            reply(to=receipt.reply_to).as_bytes(), source="smtp", envelope_from="client@example.org"
        )
        monkeypatch.setattr(client_class, "ticket_create", create_then_die)
        with pytest.raises(SystemExit):
            message_process(row.pk)
        assert len(opened) == 1 and _tickets(kind, w.fake) == 1
        pending = HelpdeskTicket.objects.get(external_id=f"inbound:{row.pk}")
        assert pending.ticket_id == ""  # recorded before the helpdesk was asked
        monkeypatch.setattr(client_class, "ticket_create", original)
        settings.WORKER_LOST_SECONDS = 0  # the crashed worker's claim has lapsed
        outcome, _ = message_process(row.pk)
        row.refresh_from_db()
        assert row.status == Status.TICKETED, (outcome, row.reason)
        assert row.ticket_id == opened[0] and _tickets(kind, w.fake) == 1
        assert len(_note_texts(kind, w.fake, row.ticket_id)) == 1
        assert HelpdeskTicket.objects.get(pk=pending.pk).ticket_id == opened[0]


def test_crash_before_the_helpdesk_answered_still_opens_the_ticket(
    receipt: Receipt, monkeypatch: pytest.MonkeyPatch, settings: Any, no_sleep: Any
) -> None:
    """The pending record with nothing behind it: the lookup finds nothing, so it opens."""
    client_class = provider_for("zendesk").client_class
    assert client_class is not None

    def die(self: Any, draft: Any) -> Any:
        raise SystemExit("worker killed before the helpdesk answered")

    with wired("zendesk") as w:
        row, _ = message_store(
            reply(to=receipt.reply_to).as_bytes(), source="smtp", envelope_from="client@example.org"
        )
        with monkeypatch.context() as m:
            m.setattr(client_class, "ticket_create", die)
            with pytest.raises(SystemExit):
                message_process(row.pk)
        assert not w.fake.tickets
        settings.WORKER_LOST_SECONDS = 0
        message_process(row.pk)
        row.refresh_from_db()
        assert row.status == Status.TICKETED and len(w.fake.tickets) == 1
        assert w.fake.calls("GET", r"/api/v2/tickets\.json")  # it looked first
        assert w.fake.tickets[int(row.ticket_id)]["external_id"] == f"inbound:{row.pk}"
