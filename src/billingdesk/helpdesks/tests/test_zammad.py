"""Zammad: what reaches its API (tests/fakes/helpdesks.py ``ZammadFake``), how its refusals
come back, and the admin adding a Zammad connection."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from billingdesk.core.errors import InvalidRequest, NotFound, RateLimited
from billingdesk.helpdesks.interface import Note, TicketDraft
from billingdesk.helpdesks.models import HelpdeskConnection
from billingdesk.helpdesks.registry import provider_for
from billingdesk.helpdesks.tests.conftest import wired
from billingdesk.helpdesks.zammad.verification import signed_query

pytestmark = pytest.mark.django_db

DRAFT = TicketDraft(subject="Charged twice", requester_email="ana@example.com", message="Why?")


def test_ticket_and_note_bodies_as_zammad_wants_them(no_sleep: list[float]) -> None:
    with wired("zammad") as w:
        client = provider_for("zammad").client(w.connection)
        assert client is not None
        ref = client.ticket_create(DRAFT)
        assert ref.url == f"{w.fake.url}/#ticket/zoom/{ref.ticket_id}"
        created = w.fake.calls("POST", "/api/v1/tickets")[0]
        assert created.headers["authorization"] == "Token token=zm-token"
        assert created.body["group"] == "Billing"
        assert created.body["customer_id"] == "guess:ana@example.com"
        assert created.body["article"]["internal"] is False
        client.note_add(ref.ticket_id, Note(html="<p>Billing &amp; more</p>", markdown="x"))
        note = w.fake.calls("POST", "/api/v1/ticket_articles")[0].body
        assert note == {
            "ticket_id": int(ref.ticket_id),
            "subject": "Billing context",
            "body": "<p>Billing &amp; more</p>",
            "content_type": "text/html",
            "type": "note",
            "internal": True,
        }


def test_a_refused_body_is_invalid_request_with_zammads_reason(no_sleep: list[float]) -> None:
    with wired("zammad") as w:
        w.connection.settings = {**w.connection.settings, "group": "Nope"}
        w.connection.save()
        client = provider_for("zammad").client(w.connection)
        assert client is not None
        with pytest.raises(InvalidRequest) as caught:
            client.ticket_create(DRAFT)
        assert "HTTP 422" in caught.value.message and "group" in caught.value.message
        assert not w.fake.tickets
        with pytest.raises(NotFound, match="HTTP 404"):
            client.note_add("999999", Note(html="<p>x</p>", markdown="x"))


def test_rate_limiting_is_retried_then_reported(no_sleep: list[float]) -> None:
    with wired("zammad") as w:
        client = provider_for("zammad").client(w.connection)
        assert client is not None
        w.fake.fail_next("/api/v1/tickets", 429)
        assert client.ticket_create(DRAFT).ticket_id  # retried once
        assert no_sleep == [0.0]
        w.fake.fail_next("/api/v1/tickets", 429, times=3)
        with pytest.raises(RateLimited):
            client.ticket_create(DRAFT)


def test_the_sidebar_url_is_refused_on_another_kinds_address() -> None:
    zammad = HelpdeskConnection.objects.create(
        name="zm", kind="zammad", secrets={"signing_secret": "s3"}
    )
    query = signed_query("s3", email="ana@example.com", ts=int(time.time()))
    own = reverse("helpdesks:zammad", kwargs={"connection_id": zammad.pk})
    assert Client().get(f"{own}?{query}").status_code == 200
    other = reverse("helpdesks:iframe", kwargs={"connection_id": zammad.pk})
    assert Client().get(f"{other}?{query}").status_code == 404


def test_framed_by_the_zammad_origin_by_default() -> None:
    zammad = HelpdeskConnection.objects.create(
        name="zm",
        kind="zammad",
        settings={"base_url": "https://support.acme.example/zammad"},
        secrets={"signing_secret": "s3"},
    )
    query = signed_query("s3", email="ana@example.com")
    own = reverse("helpdesks:zammad", kwargs={"connection_id": zammad.pk})
    csp = Client().get(f"{own}?{query}")["Content-Security-Policy"]
    assert "frame-ancestors https://support.acme.example" in csp


def test_admin_adds_a_zammad_connection(admin_client: Client) -> None:
    data = {
        "name": "Zammad",
        "kind": "zammad",
        "enabled": "on",
        "settings": '{"base_url": "https://support.acme.example", "group": "Billing"}',
        "origins": "",
        "new_secrets": "signing_secret=sig-very-secret\napi_token=zm-very-secret",
        "agent_links-TOTAL_FORMS": "0",
        "agent_links-INITIAL_FORMS": "0",
    }
    add = admin_client.post(reverse("admin:helpdesks_helpdeskconnection_add"), data)
    assert add.status_code == 302
    conn = HelpdeskConnection.objects.get(name="Zammad")
    assert conn.secret("api_token") == "zm-very-secret"
    page = admin_client.get(
        reverse("admin:helpdesks_helpdeskconnection_change", args=[conn.pk])
    ).content.decode()
    assert "zm-very-secret" not in page and f"/embed/zammad/{conn.pk}/" in page
    bad = {**data, "name": "Bad", "settings": '{"base_url": "javascript:alert(1)"}'}
    assert (
        admin_client.post(reverse("admin:helpdesks_helpdeskconnection_add"), bad).status_code == 200
    )
    assert not HelpdeskConnection.objects.filter(name="Bad").exists()


def test_cli_adds_zammad_and_prints_a_signed_sidebar_url() -> None:
    from django.conf import settings

    from billingdesk.helpdesks.tests.test_command import run

    out = run(
        "add",
        "zammad",
        "--name",
        "zm",
        "--setting",
        "base_url=https://support.acme.example",
        "--secret",
        "signing_secret=s3",
        "--secret",
        "api_token=t",
    )
    assert "Connected" in out
    url = run("iframe-url", "--connection", "zm", "--email", "ana@example.com").strip()
    assert "/embed/zammad/" in url and "sig=" in url
    assert Client().get(url.removeprefix(settings.BASE_URL)).status_code == 200
