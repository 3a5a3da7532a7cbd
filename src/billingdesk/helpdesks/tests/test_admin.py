"""The admin for helpdesk connections: secrets write-only, origins and settings validated."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from billingdesk.helpdesks.models import HelpdeskConnection

pytestmark = pytest.mark.django_db


def form(**over: str) -> dict[str, str]:
    data = {
        "name": "Support",
        "kind": "zendesk",
        "enabled": "on",
        "settings": '{"subdomain": "acme", "installation_id": "42", "public_key": "pem"}',
        "origins": "https://support.acme.example",
        "new_secrets": "api_token=zd-very-secret",
        "agent_links-TOTAL_FORMS": "0",
        "agent_links-INITIAL_FORMS": "0",
    }
    data.update(over)
    return data


def test_add_then_change_without_seeing_the_secret(admin_client: Client) -> None:
    add = admin_client.post(reverse("admin:helpdesks_helpdeskconnection_add"), form())
    assert add.status_code == 302
    conn = HelpdeskConnection.objects.get(name="Support")
    assert conn.secret("api_token") == "zd-very-secret"
    assert conn.allowed_frame_origins == ["https://support.acme.example"]
    page = admin_client.get(
        reverse("admin:helpdesks_helpdeskconnection_change", args=[conn.pk])
    ).content.decode()
    assert "zd-very-secret" not in page
    assert "Stored: api_token" in page and f"/embed/zendesk/{conn.pk}/" in page
    # Saving with the secrets box empty keeps the stored secrets.
    change = form(new_secrets="")
    change.pop("kind")
    admin_client.post(reverse("admin:helpdesks_helpdeskconnection_change", args=[conn.pk]), change)
    conn.refresh_from_db()
    assert conn.secret("api_token") == "zd-very-secret"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("origins", "https://a.example; script-src *"),
        ("new_secrets", "no-equals-sign"),
        ("new_secrets", "unknown=1"),
        ("settings", '{"subdomain": "evil.com/#"}'),
        ("settings", "[1, 2]"),
    ],
)
def test_bad_input_is_refused(admin_client: Client, field: str, value: str) -> None:
    response = admin_client.post(
        reverse("admin:helpdesks_helpdeskconnection_add"), form(**{field: value})
    )
    assert response.status_code == 200  # the form again, with the error
    assert not HelpdeskConnection.objects.exists()
