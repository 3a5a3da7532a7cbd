"""FreeScout: what reaches its API & Webhooks module (tests/fakes/helpdesks.py
``FreeScoutFake``), how its refusals come back, and adding a FreeScout connection."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.test import Client
from django.urls import reverse

from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.helpdesks.freescout.verification import signed_query
from billingdesk.helpdesks.interface import Note, TicketDraft
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.registry import provider_for
from billingdesk.helpdesks.tests.conftest import wired
from billingdesk.helpdesks.tests.test_command import run

pytestmark = pytest.mark.django_db

DRAFT = TicketDraft(
    subject="Charged twice",
    requester_email="ana@example.com",
    requester_name="Ana Lopez",
    message="Why?",
)


def test_conversation_and_note_bodies(no_sleep: list[float]) -> None:
    with wired("freescout") as w:
        client = provider_for("freescout").client(w.connection)
        assert client is not None
        ref = client.ticket_create(DRAFT)
        assert ref.url == f"{w.fake.url}/conversation/{ref.ticket_id}"
        created = w.fake.calls("POST", "/api/conversations")[0]
        assert created.headers["x-freescout-api-key"] == "fs-key"
        assert created.body["mailboxId"] == 2
        assert created.body["customer"] == {
            "email": "ana@example.com",
            "firstName": "Ana",
            "lastName": "Lopez",
        }
        assert created.body["threads"][0]["type"] == "customer"
        note_id = client.note_add(ref.ticket_id, Note(html="<p>Billing</p>", markdown="x"))
        thread = w.fake.conversations[int(ref.ticket_id)]["threads"][-1]
        assert thread == {"type": "note", "text": "<p>Billing</p>", "user": 5, "id": int(note_id)}


def test_refusals_come_back_as_clear_errors(no_sleep: list[float]) -> None:
    with wired("freescout") as w:
        w.connection.settings = {**w.connection.settings, "mailbox_id": "9", "user_id": "77"}
        w.connection.save()
        client = provider_for("freescout").client(w.connection)
        assert client is not None
        with pytest.raises(InvalidRequest, match="HTTP 400"):
            client.ticket_create(DRAFT)
        assert not w.fake.conversations
        w.connection.settings = {**w.connection.settings, "mailbox_id": "1"}
        w.connection.save()
        ref = client.ticket_create(DRAFT)
        with pytest.raises(InvalidRequest, match="HTTP 400"):  # user 77 does not exist
            client.note_add(ref.ticket_id, Note(html="<p>x</p>", markdown="x"))
        with pytest.raises(NotFound):
            client.note_add("424242", Note(html="<p>x</p>", markdown="x"))
        w.connection.settings = {"base_url": w.fake.url}  # no mailbox: said before any call
        w.connection.save()
        calls = len(w.fake.requests)
        with pytest.raises(InvalidRequest, match="mailbox"):
            client.ticket_create(DRAFT)
        assert len(w.fake.requests) == calls


def test_the_sidebar_url_opens_only_on_its_own_address() -> None:
    conn = HelpdeskConnection.objects.create(
        name="fs",
        kind="freescout",
        settings={"base_url": "https://help.acme.example"},
        secrets={"signing_secret": "s3"},
    )
    query = signed_query("s3", email="ana@example.com", ts=int(time.time()))
    own = reverse("helpdesks:freescout", kwargs={"connection_id": conn.pk})
    response = Client().get(f"{own}?{query}")
    assert response.status_code == 200
    assert "frame-ancestors https://help.acme.example" in response["Content-Security-Policy"]
    zammad = reverse("helpdesks:zammad", kwargs={"connection_id": conn.pk})
    assert Client().get(f"{zammad}?{query}").status_code == 404


def test_cli_adds_freescout_and_prints_a_signed_sidebar_url() -> None:
    out = run(
        "add",
        "freescout",
        "--name",
        "fs",
        "--setting",
        "base_url=https://help.acme.example",
        "--setting",
        "mailbox_id=1",
        "--secret",
        "signing_secret=s3",
        "--secret",
        "api_key=k",
    )
    assert "Connected" in out
    url = run("iframe-url", "--connection", "fs", "--email", "ana@example.com").strip()
    assert "/embed/freescout/" in url
    assert Client().get(url.removeprefix(settings.BASE_URL)).status_code == 200
    with pytest.raises(CommandError, match="not valid"):
        run(
            "add",
            "freescout",
            "--name",
            "bad",
            "--setting",
            "base_url=https://x.example",
            "--setting",
            "mailbox_id=abc",
            "--secret",
            "signing_secret=s",
        )
    assert not HelpdeskConnection.objects.filter(name="bad").exists()
