"""``TicketClient.ticket_messages`` of every helpdesk with a ticket API, the real client
against its HTTP fake: the customer's and the agents' messages oldest first, told apart,
private notes and events left out, HTML bodies as text, read across two pages where the API
pages; refused credentials and a helpdesk down are clear errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.fakes.helpdesks import (
    ChatwootFake,
    FreshdeskFake,
    FrontFake,
    HelpScoutFake,
    IntercomFake,
)

from billingdesk.core.errors import AuthenticationFailed, GatewayUnavailable
from billingdesk.helpdesks.registry import provider_for

from .conftest import wired

CUSTOMER = "ada@example.com"
AGENT = "agent@acme.example"
FIRST = "I was charged twice & want one back."
REPLY = "We refunded the second charge."
THANKS = "Thanks, all good now."
NOTE = "Internal: customer is a chargeback risk"

# The messages every seeding below should read back, in this order.
EXPECTED = [(CUSTOMER, True, FIRST), (AGENT, False, REPLY), (CUSTOMER, True, THANKS)]


def _freshdesk(fake: FreshdeskFake) -> tuple[str, str]:
    fake.ticket_add(501, email=CUSTOMER, html="<div>I was charged twice &amp; want one back.</div>")
    fake.conversation_add(501, html=f"<p>{NOTE}</p>", at="2026-11-02T10:30:00Z",
                          incoming=False, private=True, email=AGENT)  # fmt: skip
    fake.conversation_add(501, html=f"<p>{REPLY}</p>", at="2026-11-02T11:00:00Z",
                          incoming=False, email=AGENT)  # fmt: skip
    fake.conversation_add(501, html=f"<p>{THANKS}</p>", at="2026-11-02T12:00:00Z",
                          incoming=True, email=CUSTOMER)  # fmt: skip
    fake.conversations_page_size = 2  # three conversations: two pages, following Link
    return "501", r"/api/v2/tickets/501/conversations"


def _helpscout(fake: HelpScoutFake) -> tuple[str, str]:
    fake.thread_add(77, kind="customer", text="<p>I was charged twice &amp; want one back.</p>",
                    email=CUSTOMER, at="2026-11-02T10:00:00Z")  # fmt: skip
    fake.thread_add(77, kind="note", text=NOTE, email=AGENT, at="2026-11-02T10:30:00Z")
    fake.thread_add(77, kind="lineitem", text="Assigned to Alice", email=AGENT,
                    at="2026-11-02T10:40:00Z")  # fmt: skip
    fake.thread_add(77, kind="message", text=f"<p>{REPLY}</p>", email=AGENT,
                    at="2026-11-02T11:00:00Z")  # fmt: skip
    fake.thread_add(77, kind="message", text="draft never sent", email=AGENT,
                    at="2026-11-02T11:30:00Z", state="draft")  # fmt: skip
    fake.thread_add(77, kind="customer", text=THANKS, email=CUSTOMER, at="2026-11-02T12:00:00Z")
    fake.threads_page_size = 3  # six threads, newest first: two pages
    return "77", r"/v2/conversations/77/threads"


def _front(fake: FrontFake) -> tuple[str, str]:
    fake.message_add("cnv_9", handle=CUSTOMER, at=1793613600.0, inbound=True,
                     html="<p>I was charged twice &amp; want one back.</p>")  # fmt: skip
    fake.message_add("cnv_9", handle=AGENT, html=f"<p>{REPLY}</p>", at=1793617200.5,
                     inbound=False)  # fmt: skip
    fake.message_add("cnv_9", handle=AGENT, html="<p>unsent</p>", at=1793618000.0,
                     inbound=False, draft=True)  # fmt: skip
    fake.message_add("cnv_9", handle=CUSTOMER, html=THANKS, at=1793620800.0, inbound=True)
    fake.comments["cnv_9"].append({"id": "com_1", "body": NOTE})  # comments: never listed
    fake.messages_page_size = 2  # four messages, newest first: two pages
    return "cnv_9", r"/conversations/cnv_9/messages"


def _intercom(fake: IntercomFake) -> tuple[str, str]:
    fake.conversation_add("3001", email=CUSTOMER, at=1793613600,
                          body="<p>I was charged twice &amp; want one back.</p>")  # fmt: skip
    fake.part_add("3001", part_type="assignment", author_type="admin", email=AGENT, body=None,
                  at=1793615000)  # fmt: skip
    fake.part_add("3001", part_type="note", author_type="admin", email=AGENT,
                  body=f"<p>{NOTE}</p>", at=1793616000)  # fmt: skip
    fake.part_add("3001", part_type="comment", author_type="admin", email=AGENT,
                  body=f"<p>{REPLY}</p>", at=1793617200)  # fmt: skip
    fake.part_add("3001", part_type="comment", author_type="user", email=CUSTOMER,
                  body=f"<p>{THANKS}</p>", at=1793620800)  # fmt: skip
    # Intercom does not page a conversation's parts: one answer holds them (up to 500).
    return "3001", r"/conversations/3001"


def _chatwoot(fake: ChatwootFake) -> tuple[str, str]:
    fake.message_add(41, content=FIRST, message_type=0, email=CUSTOMER, at=1793613600)
    fake.message_add(41, content="Alice self-assigned this conversation", message_type=2,
                     email=AGENT, at=1793615000)  # fmt: skip
    fake.message_add(41, content=NOTE, message_type=1, email=AGENT, at=1793616000,
                     private=True)  # fmt: skip
    fake.message_add(41, content=REPLY, message_type=1, email=AGENT, at=1793617200)
    fake.message_add(41, content=THANKS, message_type=0, email=CUSTOMER, at=1793620800)
    fake.messages_page_size = 3  # five messages: the latest three, then two ``before`` them
    return "41", r"/api/v1/accounts/7/conversations/41/messages"


SEEDS: dict[str, Callable[[Any], tuple[str, str]]] = {
    "freshdesk": _freshdesk,
    "helpscout": _helpscout,
    "front": _front,
    "intercom": _intercom,
    "chatwoot": _chatwoot,
}
PAGED = {"freshdesk": 2, "helpscout": 2, "front": 2, "intercom": 1, "chatwoot": 3}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_messages_read_oldest_first_customer_told_from_agent(kind: str) -> None:
    with wired(kind) as w:
        ticket_id, path = SEEDS[kind](w.fake)
        client = provider_for(kind).client(w.connection)
        assert client is not None

        messages = client.ticket_messages(ticket_id)

        assert [(m.author, m.from_customer, m.body) for m in messages] == EXPECTED
        assert all(m.public and m.at.startswith("2026-11-02T") for m in messages)
        assert [m.at for m in messages] == sorted(m.at for m in messages)
        # Every page was read: two where the API pages (Chatwoot's last, empty, page ends it).
        assert len(w.fake.calls("GET", path)) == PAGED[kind]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_refused_credentials_are_a_clear_error(kind: str, no_sleep: list[float]) -> None:
    with wired(kind) as w:
        ticket_id, _path = SEEDS[kind](w.fake)
        secrets = dict(w.connection.secrets)
        key = next(
            k
            for k in ("app_secret", "access_token", "api_token", "api_key", "api_access_token")
            if k in secrets
        )
        secrets[key] = "wrong-secret-value"
        w.connection.secrets = secrets
        w.connection.save()
        client = provider_for(kind).client(w.connection)
        assert client is not None
        with pytest.raises(AuthenticationFailed) as exc:
            client.ticket_messages(ticket_id)
        assert "refused billingdesk's credentials" in exc.value.message
        assert "wrong-secret-value" not in exc.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_a_helpdesk_down_is_a_clear_error_after_the_retries(
    kind: str, no_sleep: list[float]
) -> None:
    with wired(kind) as w:
        ticket_id, path = SEEDS[kind](w.fake)
        w.fake.fail_next(path.replace("\\", ""), 503, times=3)
        client = provider_for(kind).client(w.connection)
        assert client is not None
        with pytest.raises(GatewayUnavailable) as exc:
            client.ticket_messages(ticket_id)
        assert "HTTP 503" in exc.value.message
        assert len(no_sleep) == 2  # retried twice, then reported
