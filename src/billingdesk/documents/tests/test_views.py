"""Agent access: PDF download, the per-person list, resend; by role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.actions.models import AuditEntry
from billingdesk.documents.models import Document

from .conftest import shop_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("agent", password="pw-long-enough")
    AgentProfile.objects.create(user=user, role=Role.AGENT)
    client.force_login(user)
    return client


def _issued(drain_tasks) -> Document:
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    return Document.objects.get(charge=charge)


def test_staff_downloads_the_pdf(staff, drain_tasks):
    doc = _issued(drain_tasks)
    response = staff.get(reverse("documents:pdf", args=[doc.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert doc.filename in response["Content-Disposition"]
    assert response.content == bytes(doc.pdf)


def test_person_documents_api_lists_documents(staff, drain_tasks):
    doc = _issued(drain_tasks)
    response = staff.get(reverse("documents:api-person", args=[doc.person_id]))
    assert response.status_code == 200
    body = response.json()
    assert [d["number"] for d in body["documents"]] == [doc.number]
    assert body["documents"][0]["gross"] == 1190
    assert body["documents"][0]["pdf_url"] == reverse("documents:pdf", args=[doc.pk])
    page = staff.get(reverse("documents:person", args=[doc.person_id]))
    assert doc.number in page.content.decode()


def test_unknown_person_is_a_clear_404(staff):
    response = staff.get(reverse("documents:api-person", args=[999999]))
    assert response.status_code == 404 and "no person" in response.json()["error"]


def test_anonymous_is_refused_and_read_only_may_read_but_not_resend(client, drain_tasks):
    doc = _issued(drain_tasks)
    assert client.get(reverse("documents:pdf", args=[doc.pk])).status_code == 401
    assert client.post(reverse("documents:resend", args=[doc.pk])).status_code == 401
    viewer = get_user_model().objects.create_user("viewer", password="pw-long-enough")
    AgentProfile.objects.create(user=viewer, role=Role.READ_ONLY)
    client.force_login(viewer)
    assert client.get(reverse("documents:pdf", args=[doc.pk])).status_code == 200
    assert client.get(reverse("documents:api-person", args=[doc.person_id])).status_code == 200
    refused = client.post(reverse("documents:resend", args=[doc.pk]))
    assert refused.status_code == 403 and "agent" in refused.json()["error"]
    assert not AuditEntry.objects.exists()


def test_resend_from_the_person_page_is_audited_and_returns_there(staff, drain_tasks):
    doc = _issued(drain_tasks)
    page = reverse("console-person", args=[doc.person_id])
    listing = staff.get(page)
    assert doc.number in listing.content.decode()

    response = staff.post(reverse("documents:resend", args=[doc.pk]), {"next": page})

    assert response.status_code == 302 and response["Location"] == page
    entry = AuditEntry.objects.get(action="document_resend")
    assert (entry.actor_name, entry.target_id, entry.person_id) == (
        "agent",
        doc.number,
        doc.person_id,
    )
    offsite = staff.post(
        reverse("documents:resend", args=[doc.pk]), {"next": "https://evil.example/"}
    )
    assert offsite.status_code == 202  # never redirected off-site


def test_resend_queues_an_email(staff, drain_tasks, mailoutbox):
    doc = _issued(drain_tasks)
    mailoutbox.clear()
    response = staff.post(reverse("documents:resend", args=[doc.pk]))
    assert response.status_code == 202
    drain_tasks()
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments[0][0] == doc.filename


def test_admin_pages_render(admin_client, drain_tasks):
    doc = _issued(drain_tasks)
    for name in ["document", "brand", "legalentity", "documentseries", "taxrate"]:
        assert admin_client.get(reverse(f"admin:documents_{name}_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:documents_document_change", args=[doc.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:documents_brand_add")).status_code == 200


def test_the_compact_panel_lists_documents_with_resend(staff, drain_tasks):
    doc = _issued(drain_tasks)
    panel = reverse("panel-person", args=[doc.person_id])

    body = staff.get(panel).content.decode()

    assert doc.number in body
    assert reverse("documents:pdf", args=[doc.pk]) in body
    assert reverse("documents:resend", args=[doc.pk]) in body
    response = staff.post(reverse("documents:resend", args=[doc.pk]), {"next": panel})
    assert response.status_code == 302 and response["Location"] == panel
