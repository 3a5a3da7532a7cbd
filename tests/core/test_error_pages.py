"""Pages a person can reach all have the console's look: 403/404/400/500, the favicon, the
documents of a person (issue 20 #3)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.billing.models import Person


@pytest.fixture
def agent_client(db: None) -> Client:
    user = User.objects.create_user("ines", password="pw")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    client = Client()
    client.force_login(user)
    return client


def test_a_missing_page_is_styled_with_the_navigation_and_a_way_back(agent_client: Client) -> None:
    response = agent_client.get("/console/person/987654/")
    body = response.content.decode()

    assert response.status_code == 404
    assert "billingdesk.css" in body and 'class="topbar"' in body
    assert "Page not found" in body
    assert 'href="/console/"' in body  # "Search the console"
    assert "ines" in body  # the signed-in user's navigation


def test_an_unknown_address_does_not_leak_the_url_patterns(agent_client: Client) -> None:
    body = agent_client.get("/no/such/page/").content.decode()

    assert "Page not found" in body
    assert "Resolver404" not in body and "tried" not in body


def test_a_missing_page_for_someone_signed_out_offers_to_sign_in(db: None) -> None:
    response = Client().get("/no/such/page/")

    assert response.status_code == 404
    assert 'href="/login/?next=/no/such/page/"' in response.content.decode()


def test_a_missing_person_on_the_documents_page_says_so(agent_client: Client) -> None:
    response = agent_client.get("/documents/persons/987654/")

    assert response.status_code == 404
    assert "No person 987654" in response.content.decode()


def test_the_documents_page_of_a_person_has_the_console_look(agent_client: Client) -> None:
    person = Person.objects.create(name="Théo Simon", primary_email="theo@example.com")

    response = agent_client.get(f"/documents/persons/{person.pk}/")
    body = response.content.decode()

    assert response.status_code == 200
    assert "panel.css" in body and 'class="topbar"' in body
    assert "Documents of Théo Simon" in body
    assert f'href="/console/person/{person.pk}/"' in body
    assert "No documents yet." in body


def test_a_forbidden_page_is_styled(agent_client: Client) -> None:
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from billingdesk.core.views import permission_denied

    request = RequestFactory().get("/somewhere/")
    request.user = User.objects.get(username="ines")
    response = permission_denied(request, PermissionDenied("Only finance can see this."))
    body = response.content.decode()

    assert response.status_code == 403
    assert "Not allowed" in body and "Only finance can see this." in body
    assert "billingdesk.css" in body


def test_the_favicon_is_served_and_cached(db: None) -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age" in response["Cache-Control"]


def test_every_page_links_the_icon(agent_client: Client) -> None:
    assert "favicon.svg" in agent_client.get("/console/").content.decode()
    assert "favicon.svg" in Client().get("/login/").content.decode()
