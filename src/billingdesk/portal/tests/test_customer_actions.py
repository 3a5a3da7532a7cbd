"""Tax id, card, questions and payments on the customer pages, against the sandbox gateway,
the real document re-issue and the helpdesk fakes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from billingdesk.actions.models import AuditEntry
from billingdesk.billing.models import Invoice, TaxId
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill
from billingdesk.helpdesks.tests.conftest import wired
from billingdesk.panel.tests.factories import add_customer, build_shop
from billingdesk.portal.models import Question
from billingdesk.portal.services import portal_link_create

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, person) -> Client:
    assert client.get(urlsplit(portal_link_create(person=person)).path).status_code == 302
    return client


def _belgian_buyer(drain_tasks):
    """A French shop (documents on) and a Belgian consumer paying 120 € at the sandbox."""
    shop = shop_create("FR")
    engine = SandboxEngine(shop.account, webhooks=False)
    cus = engine.customer_create(email="jan@example.be", name="Jan Peeters", country="BE")
    engine.card_attach(customer_id=cus.object_id, number="4242424242424242", exp_month=1,
                       exp_year=2032)  # fmt: skip
    engine.charge_create(customer_id=cus.object_id, amount=12000, currency="EUR",
                         description="Pro plan")  # fmt: skip
    account_backfill(account=shop.account)
    drain_tasks()
    [invoice] = Document.objects.filter(kind__in=["invoice", "receipt"])
    return shop, invoice


def test_tax_id_added_on_the_page_reaches_the_gateway_and_corrects_the_invoices(
    client, drain_tasks
):
    _, first = _belgian_buyer(drain_tasks)
    assert first.treatment == "oss" and first.tax > 0
    person = first.person
    _signed_in(client, person)
    bad = client.post("/billing/tax-id", {"country": "BE", "value": "BE0403170702"},
                      HTTP_ACCEPT_LANGUAGE="fr")  # fmt: skip
    assert bad.status_code == 400
    assert "chiffre de contrôle" in bad.content.decode()
    assert not TaxId.objects.exists()
    good = client.post("/billing/tax-id", {"country": "be", "value": "0403.170.701"})
    assert good.status_code == 200 and good.context["outcome"].value == "BE0403170701"
    # Saved at the gateway through its connector, mirrored, and audited as the customer.
    [tax] = TaxId.objects.filter(customer__person=person)
    assert (tax.value, tax.tax_type) == ("BE0403170701", "eu_vat")
    [entry] = AuditEntry.objects.filter(action="add_tax_id")
    assert entry.actor is None and entry.actor_name == "customer jan@example.be"
    assert entry.result == "succeeded" and entry.ip == "127.0.0.1"
    assert entry.detail.startswith("source=customer")
    drain_tasks()
    credit = Document.objects.get(source_key=f"reissue-credit:{first.pk}")
    new = Document.objects.get(source_key=f"reissue:{first.pk}")
    assert (new.treatment, new.tax) == ("reverse_charge", 0)
    history = client.get("/billing/").content.decode()
    assert credit.number in history and new.number in history and first.number in history


def test_card_update_goes_to_the_gateway_page_of_the_persons_own_account(client):
    shop = build_shop()
    other = add_customer(shop.account, "cus_other", email="bob@example.com", name="Bob")
    _signed_in(client, shop.customer.person)
    page = client.get("/billing/card")
    assert page.status_code == 200 and "4242" in page.content.decode()
    response = client.post(f"/billing/card/{shop.customer.pk}")
    assert response.status_code == 302
    target = response["Location"]
    # The sandbox's hosted card page (a signed link for Ana's customer), back to the history.
    assert urlsplit(target).path.startswith("/sandbox/card/")
    hosted = Client()
    assert hosted.get(urlsplit(target).path).status_code == 200
    done = hosted.post(urlsplit(target).path, {"number": "5555 5555 5555 4444",
                       "exp_month": "12", "exp_year": "2040", "cvc": "123"})  # fmt: skip
    assert done.status_code == 200 and "/billing/?card=updated" in done.content.decode()
    # Once the gateway's news reaches the mirror, the new card is the one shown.
    account_backfill(account=shop.account)
    assert "•••• 4444" in client.get("/billing/card").content.decode()
    assert AuditEntry.objects.filter(action="card_update_start", person=shop.customer.person)
    # Bob's account is not Ana's: not found, and nothing started.
    assert client.post(f"/billing/card/{other.pk}").status_code == 404
    assert client.post("/billing/card/99999999").status_code == 404
    # CSRF applies to the card form as to every other.
    strict = _signed_in(Client(enforce_csrf_checks=True), shop.customer.person)
    assert strict.post(f"/billing/card/{shop.customer.pk}").status_code == 403


def test_card_update_where_the_gateway_cannot(client, monkeypatch):
    shop = build_shop()
    monkeypatch.setattr(SandboxConnector, "capabilities", frozenset())
    _signed_in(client, shop.customer.person)
    assert "cannot be changed here" in client.get("/billing/card").content.decode()
    refused = client.post(f"/billing/card/{shop.customer.pk}")
    assert refused.status_code == 409


def test_open_invoice_has_a_pay_link(client):
    shop = build_shop()
    result = SandboxConnector(shop.account).payment_request_create(
        customer_id=shop.customer.gateway_id, amount=2599, currency="EUR",
        description="Replacement grinder", idempotency_key="pr-portal",
    )  # fmt: skip
    from billingdesk.billing.services import mirror_upsert

    mirror_upsert(account=shop.account, objects=result.objects)
    invoice = Invoice.objects.get(customer=shop.customer, status="open")
    _signed_in(client, shop.customer.person)
    page = client.get("/billing/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert invoice.hosted_url in page.replace("&amp;", "&")
    assert "25,99" in page


def test_question_becomes_a_ticket_with_billing_context(client, drain_tasks, smtp, no_sleep):
    shop = build_shop()
    _signed_in(client, shop.customer.person)
    form = client.get(f"/billing/ask?charge={shop.charge.pk}")
    assert form.status_code == 200 and "Annual plan" in form.context["form"].initial["subject"]
    with wired("zendesk") as w:
        done = client.post("/billing/ask", {
            "charge": shop.charge.pk, "subject": "Charged twice?", "message": "Why twice?",
        })  # fmt: skip
        assert done.status_code == 200
        question = Question.objects.get()
        assert question.status == Question.Status.PENDING  # stored first
        drain_tasks()
        question.refresh_from_db()
        assert question.status == Question.Status.SENT and question.ticket_id
        ticket = w.fake.tickets[int(question.ticket_id)]
        assert ticket["subject"] == "Charged twice?"
        notes = " ".join(c.get("html_body") or c.get("body") or "" for c in ticket["comments"])
        assert shop.charge.gateway_id in notes
    [confirmation] = smtp.parsed()
    assert confirmation["To"] == "ana@example.com" and f"Q-{question.pk}" in str(
        confirmation.get_body(preferencelist=("plain",)).get_content()
    )


def test_question_waits_while_the_helpdesk_is_down(client, drain_tasks, smtp, no_sleep):
    shop = build_shop()
    _signed_in(client, shop.customer.person)
    with wired("zendesk") as w:
        w.fake.fail_next("/", 503, times=50)
        client.post("/billing/ask", {"subject": "Help", "message": "My invoice"})
        drain_tasks()
        question = Question.objects.get()
        assert question.status == Question.Status.PENDING and question.attempts == 1
        assert question.error
        assert not w.fake.tickets


def test_question_about_another_persons_document_is_not_found(client):
    shop = build_shop()
    bob = add_customer(shop.account, "cus_bob", charges=1, email="bob@example.com", name="Bob")
    _signed_in(client, shop.customer.person)
    bob_charge = bob.charges.first()
    assert client.get(f"/billing/ask?charge={bob_charge.pk}").status_code == 404
    assert client.post("/billing/ask", {"charge": bob_charge.pk, "subject": "x",
                                        "message": "y"}).status_code == 404  # fmt: skip
    assert client.get("/billing/ask?document=abc").status_code == 404
    empty = client.post("/billing/ask", {"subject": "", "message": ""})
    assert empty.status_code == 400 and empty.context["form"].errors
    assert not Question.objects.exists()


@pytest.mark.parametrize("path", ["/billing/tax-id", "/billing/card", "/billing/ask"])
def test_pages_need_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 410 and response["Cache-Control"] == "no-store"
