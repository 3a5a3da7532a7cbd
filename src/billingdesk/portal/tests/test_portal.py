"""The customer billing pages: links, session, history scope, documents, language, headers."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from billingdesk.billing.models import Charge, Person
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.panel.tests.factories import add_customer, build_shop
from billingdesk.portal import services
from billingdesk.portal.selectors import history_for_person
from billingdesk.portal.services import portal_link_create, portal_link_revoke

pytestmark = pytest.mark.django_db

HISTORY = "/billing/"


def _open(client, person: Person, **headers: str):
    """Open a fresh link the way a customer does: the absolute URL's path, in this client."""
    return client.get(urlsplit(portal_link_create(person=person)).path, **headers)


def _two_people():
    """Ana in two sandbox accounts (same email: one person), Bob in the first one."""
    eu = build_shop("EU store")
    us = build_shop("US store")
    bob = add_customer(eu.account, "cus_bob", charges=1, email="bob@example.com", name="Bob")
    Charge.objects.filter(customer=bob).update(description="Bob's secret order")
    return eu, us, bob.person


def test_link_opens_a_session_and_redirects_to_the_clean_url(client):
    shop = build_shop()
    url = portal_link_create(person=shop.customer.person)
    assert url.startswith("http://") and "/billing/link/" in url
    response = _open(client, shop.customer.person)
    assert response.status_code == 302 and response["Location"] == HISTORY
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    page = client.get(HISTORY)
    assert page.status_code == 200
    assert "Annual plan" in page.content.decode()
    assert page["X-Frame-Options"] == "DENY" and page["Cache-Control"] == "no-store"


def test_history_without_a_session_is_refused(client):
    response = client.get(HISTORY)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_tampered_link_is_a_styled_403(client):
    shop = build_shop()
    token = services.portal_token_create(person=shop.customer.person)
    for bad in (token[:-2] + "xx", "garbage", "a" * 5000, token.replace(":", "", 1)):
        response = client.get(reverse("portal:open", args=[bad]))
        assert response.status_code == 403, bad
        assert "not valid" in response.content.decode()
    # Another person's id with the original signature: the signature no longer matches.
    forged = signing.dumps({"p": shop.customer.person.pk + 1, "v": 1}, salt="other-salt")
    assert client.get(reverse("portal:open", args=[forged])).status_code == 403
    assert client.get(HISTORY).status_code == 410  # no session was opened


def test_expired_link_is_a_410(client, monkeypatch):
    shop = build_shop()
    token = services.portal_token_create(person=shop.customer.person)
    monkeypatch.setattr(services, "LINK_MAX_AGE", 0)
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 5)
    response = client.get(reverse("portal:open", args=[token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_expired_session_is_refused(client, monkeypatch):
    shop = build_shop()
    _open(client, shop.customer.person)
    assert client.get(HISTORY).status_code == 200
    later = time.time() + services.SESSION_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(HISTORY).status_code == 410


def test_revoked_link_and_its_session_stop(client):
    shop = build_shop()
    person = shop.customer.person
    token = services.portal_token_create(person=person)
    _open(client, person)
    assert client.get(HISTORY).status_code == 200
    portal_link_revoke(person=person)
    response = client.get(HISTORY)
    assert response.status_code == 410 and "no longer valid" in response.content.decode()
    assert client.get(reverse("portal:open", args=[token])).status_code == 410
    # A new link works again; the old one stays dead.
    _open(client, person)
    assert client.get(HISTORY).status_code == 200
    assert client.get(reverse("portal:open", args=[token])).status_code == 410


def test_history_spans_accounts_and_shows_only_that_person(client):
    eu, us, bob = _two_people()
    ana = eu.customer.person
    assert us.customer.person_id == ana.pk  # the same human in two gateway accounts
    _open(client, ana)
    body = client.get(HISTORY).content.decode()
    assert body.count("Annual plan") == 2 and body.count("Deposit") == 2  # both accounts
    assert "Bob" not in body
    assert "€50.00" in body and "Paid" in body and "Authorised, not yet taken" in body
    assert "captured" not in body and "authorized" not in body  # never the raw codes
    days = re.findall(r"<td[^>]*>([A-Z][a-z]{2} \d{1,2}, \d{4})</td>", body)
    assert days  # dates written by day_format
    # Bob's session sees Bob only.
    other = client.__class__()
    _open(other, bob)
    bob_page = other.get(HISTORY).content.decode()
    assert "Bob&#x27;s secret order" in bob_page and "Annual plan" not in bob_page


def test_history_is_paginated_newest_first(client):
    eu = build_shop()
    many = add_customer(eu.account, "cus_many", charges=30, email="many@example.com")
    _open(client, many.person)
    first = client.get(HISTORY).content.decode()
    assert first.count('<tr class="entry-') == 25
    assert "Page 1 of 2" in first
    second = client.get(HISTORY + "?page=2").content.decode()
    assert 0 < second.count('<tr class="entry-') < 25
    assert client.get(HISTORY + "?page=zzz").status_code == 200  # garbage page: the first
    # Only the page's rows are formatted; the order is over the whole timeline.
    timeline = history_for_person(person_id=many.person_id)
    assert len(timeline) == 30 + 15 + 1  # charges, refunds (every other one), subscription
    every = timeline[0 : len(timeline)]
    assert [e.at for e in every] == sorted((e.at for e in every), reverse=True)
    assert {e.kind for e in every} == {"charge", "refund", "subscription"}
    assert timeline[25:50] == every[25:] and timeline[3] == every[3]


def test_session_cannot_be_pointed_at_another_person(client):
    eu, _, bob = _two_people()
    _open(client, eu.customer.person)
    session = client.session
    scope = session["portal"]
    scope["p"] = bob.pk  # a session edited to another person (server side only, but still)
    session["portal"] = scope
    session.save()
    # The version check is per person: Bob has no access row at that version yet.
    assert client.get(HISTORY).status_code == 410


def _documented(drain_tasks):
    shop = shop_create("DE")
    mine = shop.pay(amount=1190, country="DE", email="jo@example.org", name="Jo")
    theirs = shop.pay(amount=2380, country="DE", email="kim@example.org", name="Kim")
    drain_tasks()
    return Document.objects.get(charge=mine), Document.objects.get(charge=theirs)


def test_document_download_own_and_others(client, drain_tasks):
    mine, theirs = _documented(drain_tasks)
    _open(client, mine.person)
    body = client.get(HISTORY).content.decode()
    assert mine.number in body and theirs.number not in body
    own = client.get(reverse("portal:pdf", args=[mine.pk]))
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert own.content == bytes(mine.pdf) and own["Cache-Control"] == "no-store"
    assert client.get(reverse("portal:pdf", args=[theirs.pk])).status_code == 404
    for bad in (str(2**70), "abc", "0"):
        assert client.get(f"/billing/documents/{bad}/pdf").status_code == 404


def test_document_download_needs_a_session(client, drain_tasks):
    mine, _ = _documented(drain_tasks)
    assert client.get(reverse("portal:pdf", args=[mine.pk])).status_code == 410


def test_language_from_query_then_kept_and_from_browser(client):
    shop = build_shop()
    _open(client, shop.customer.person)
    fr = client.get(HISTORY + "?lang=fr").content.decode()
    assert "Historique de facturation" in fr and "Payé" in fr and "50,00" in fr
    assert "Historique de facturation" in client.get(HISTORY).content.decode()  # kept
    other = client.__class__()
    _open(other, shop.customer.person)
    de = other.get(HISTORY, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "Bezahlt" in de
    es = other.get(HISTORY + "?lang=es").content.decode()
    assert "Pagado" in es


def test_refusal_page_in_the_browser_language(client):
    response = client.get(reverse("portal:open", args=["garbage"]), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 403
    assert "lien de facturation n" in response.content.decode()


def test_output_is_escaped(client):
    eu = build_shop()
    evil = add_customer(eu.account, "cus_evil", charges=1, email="evil@example.com")
    Charge.objects.filter(customer=evil).update(description="<script>alert(1)</script>")
    _open(client, evil.person)
    body = client.get(HISTORY).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body


def test_command_prints_a_link_by_id_or_email(capsys):
    shop = build_shop()
    person = shop.customer.person
    call_command("portal", "link", str(person.pk))
    by_id = capsys.readouterr().out.strip()
    call_command("portal", "link", "ana@example.com")
    by_email = capsys.readouterr().out.strip()
    assert "/billing/link/" in by_id and "/billing/link/" in by_email
    assert services.link_read(by_id.rsplit("/", 1)[1])[0] == person.pk
    for bad in ("nobody@example.com", "999999999", "not a person", str(2**70)):
        with pytest.raises(CommandError):
            call_command("portal", "link", bad)
