"""The admin pages of helpdesks and users open and save what the form shows (issue 20)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.accounts.selectors import role_of

pytestmark = pytest.mark.django_db


def test_the_add_connection_page_opens(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:helpdesks_helpdeskconnection_add"))
    assert response.status_code == 200
    assert "Saved connections show their addresses here." in response.content.decode()


def _user_add(client: Client, username: str, role: str) -> User:
    data = {
        "username": username,
        "password1": "a-Long-pass-9173",
        "password2": "a-Long-pass-9173",
        "usable_password": "true",
        "agent_profile-TOTAL_FORMS": "1",
        "agent_profile-INITIAL_FORMS": "0",
        "agent_profile-MIN_NUM_FORMS": "1",
        "agent_profile-MAX_NUM_FORMS": "1",
        "agent_profile-0-role": role,
    }
    response = client.post(reverse("admin:auth_user_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return User.objects.get(username=username)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_adding_a_user_saves_the_role_shown(admin_client: Client, role: str) -> None:
    page = admin_client.get(reverse("admin:auth_user_add")).content.decode()
    assert 'name="agent_profile-0-role"' in page
    user = _user_add(admin_client, f"new-{role}", role)
    assert AgentProfile.objects.get(user=user).role == role
    assert role_of(user) == role


def test_saving_a_user_without_profile_keeps_it_read_only(admin_client: Client) -> None:
    user = User.objects.create_user("legacy", password="x")
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()
    assert '<option value="read_only" selected>' in page


def test_the_user_list_shows_a_superuser_as_admin(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert '<td class="field-role">admin</td>' in page
