"""The "send me my billing link" form and the agent's link page: real SMTP, real tasks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import DatabaseError
from django.test import Client

from billingdesk.actions.models import AuditEntry
from billingdesk.panel.tests.factories import agent, build_shop
from billingdesk.portal import limits
from billingdesk.portal.models import RateHit

pytestmark = pytest.mark.django_db

FORM = "/billing/send-link"


def _link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://\S+/billing/link/\S+", body)
    assert found, body
    return found.group(0)


def test_known_address_gets_a_working_link_by_email(client, smtp, drain_tasks):
    shop = build_shop()
    response = client.post(FORM, {"email": " Ana@Example.com "}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "Ana@Example.com" in response.content.decode()
    assert smtp.messages == []  # nothing is looked up or sent while the customer waits
    drain_tasks()
    [message] = smtp.parsed()
    assert message["To"] == "Ana@Example.com"
    assert message["Subject"] == "Votre lien de facturation"
    link = _link_in(message)
    fresh = Client()
    opened = fresh.get(urlsplit(link).path)
    assert opened.status_code == 302
    page = fresh.get("/billing/")
    assert page.status_code == 200 and page.context["person"] == shop.customer.person


def test_unknown_address_gets_the_same_answer_and_no_email(client, smtp, drain_tasks):
    build_shop()
    known = client.post(FORM, {"email": "ana@example.com"})
    unknown = client.post(FORM, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200

    def strip(response) -> str:
        text = response.content.decode()
        return text.replace("ana@example.com", "X").replace("nobody@example.com", "X")

    assert re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", strip(known)) == re.sub(
        r'name="csrfmiddlewaretoken" value="\w+"', "", strip(unknown)
    )
    drain_tasks()
    assert [rcpt for rcpt, _ in smtp.messages] == [["ana@example.com"]]


def test_bad_address_is_a_form_error(client):
    response = client.post(FORM, {"email": "not an address"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert response.context["form"].errors["email"]
    assert "Geben Sie eine gültige E-Mail-Adresse ein" in response.content.decode()


def test_per_email_and_per_ip_limits(client, smtp, drain_tasks):
    build_shop()
    for _ in range(limits.LINKS_PER_EMAIL):
        assert client.post(FORM, {"email": "ana@example.com"}).status_code == 200
    # The same address, even written differently, is refused now.
    assert client.post(FORM, {"email": "ANA+x@example.com"}).status_code == 429
    drain_tasks()
    assert len(smtp.messages) == limits.LINKS_PER_EMAIL
    # Other addresses from the same IP: refused once the IP used its hour's allowance.
    for n in range(limits.LINKS_PER_IP - limits.LINKS_PER_EMAIL):
        assert client.post(FORM, {"email": f"u{n}@example.com"}).status_code == 200
    assert client.post(FORM, {"email": "fresh@example.com"}).status_code == 429
    other_ip = client.post(FORM, {"email": "fresh@example.com"}, REMOTE_ADDR="10.0.0.9")
    assert other_ip.status_code == 200
    # No address is stored: the counters are hashes.
    assert not RateHit.objects.filter(key__contains="@").exists()


def test_limiter_fails_closed(client, monkeypatch, smtp, drain_tasks):
    build_shop()

    def broken(*args, **kwargs):
        raise DatabaseError("the table is locked")

    monkeypatch.setattr(RateHit.objects, "bulk_create", broken)
    assert client.post(FORM, {"email": "ana@example.com"}).status_code == 429
    drain_tasks()
    assert smtp.messages == []


def test_form_needs_csrf():
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(FORM, {"email": "ana@example.com"}).status_code == 403


def test_agent_copies_and_sends_a_link_and_both_are_audited(client, smtp, drain_tasks):
    shop = build_shop()
    person = shop.customer.person
    client.force_login(agent())
    url = f"/billing/agent/people/{person.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "ana@example.com" in page.content.decode()
    copied = client.post(url, {"do": "copy"})
    link = copied.context["link"]
    assert "/billing/link/" in link
    assert Client().get(urlsplit(link).path).status_code == 302
    sent = client.post(url, {"do": "send", "to": "ana@example.com", "language": "es"})
    assert sent.status_code == 200 and sent.context["sent_to"] == "ana@example.com"
    drain_tasks()
    [message] = smtp.parsed()
    assert message["Subject"] == "Tu enlace de facturación"
    assert Client().get(urlsplit(_link_in(message)).path).status_code == 302
    actions = list(
        AuditEntry.objects.filter(person=person).order_by("seq").values_list("action", "actor_name")
    )
    assert actions == [
        ("portal_link_create", "Agent (agent-user)"),
        ("portal_link_send", "Agent (agent-user)"),
    ]
    # Only the person's own addresses; anything else is refused, nothing sent.
    assert client.post(url, {"do": "send", "to": "evil@example.com"}).status_code == 400
    revoked = client.post(url, {"do": "revoke"})
    assert revoked.context["revoked"]
    assert Client().get(urlsplit(link).path).status_code == 410


def test_read_only_agents_and_strangers_cannot_make_links(client):
    shop = build_shop()
    url = f"/billing/agent/people/{shop.customer.person_id}"
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(agent("read_only", "viewer"))
    assert client.post(url, {"do": "copy"}).status_code == 403
    assert not AuditEntry.objects.filter(action="portal_link_create").exists()


def test_link_button_is_on_the_console_person_page(client):
    shop = build_shop()
    client.force_login(agent())
    page = client.get(f"/console/person/{shop.customer.person_id}/")
    assert page.status_code == 200
    assert f'href="/billing/agent/people/{shop.customer.person_id}"' in page.content.decode()


def test_link_button_is_in_the_helpdesk_sidebar_for_agents_only():
    from billingdesk.helpdesks.models import HelpdeskAgentLink
    from billingdesk.helpdesks.tests import test_embed as embedded

    shop = build_shop()
    connection = embedded.conn(
        "iframe", secrets={"signing_secret": "s3"}, allowed_frame_origins=[embedded.HOST]
    )
    button = f'href="/billing/agent/people/{shop.customer.person_id}"'
    anonymous = Client()
    url = embedded.iframe_url(connection, email="ana@example.com")
    body = embedded.panel(anonymous, embedded.token_of(anonymous.get(url))).json()
    assert button not in body["html"]  # read-only: nobody vouched for an agent
    user = agent("agent", "jane")
    user.email = "jane@acme.example"
    user.save()
    HelpdeskAgentLink.objects.create(
        connection=connection, agent_email="jane@acme.example", user=user
    )
    vouched = Client()
    url = embedded.iframe_url(connection, email="ana@example.com", agent="jane@acme.example")
    body = embedded.panel(vouched, embedded.token_of(vouched.get(url))).json()
    assert body["read_only"] is False and button in body["html"]
