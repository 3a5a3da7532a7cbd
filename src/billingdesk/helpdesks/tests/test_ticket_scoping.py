"""The ticket API puts only the requester's billing data into a ticket (issue 10 #13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billingdesk.billing.models import Person
from billingdesk.documents.services import document_issue_for_charge
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.helpdesks.iframe.verification import signed_query
from billingdesk.helpdesks.models import HelpdeskConnection, HelpdeskTicket
from billingdesk.helpdesks.tests.conftest import wired
from billingdesk.helpdesks.tests.test_embed import token_of
from billingdesk.panel.tests.factories import agent

pytestmark = pytest.mark.django_db


def _setup() -> tuple[int, int, int]:
    """Two customers with a receipt each: (Ana's person, Bob's person, Bob's document)."""
    shop = shop_create("FR", b2c_document="receipt")
    ana = shop.pay(email="ana@example.com", name="Ana Lopez")
    bob = shop.pay(email="bob@example.com", name="Bob Martin")
    doc = document_issue_for_charge(charge_id=bob.pk)
    assert doc is not None
    return ana.customer.person_id, bob.customer.person_id, doc.pk  # type: ignore[union-attr,return-value]


def post(client: Client, url: str, **body: Any) -> Any:
    payload = {"subject": "Billing question", "requester_email": "ana@example.com", **body}
    headers = {}
    if "bearer" in payload:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {payload.pop('bearer')}"
    return client.post(url, payload, content_type="application/json", **headers)


def test_person_document_and_ticket_must_be_the_requesters(no_sleep: list[float]) -> None:
    ana, bob, bobs_doc = _setup()
    with wired("zendesk") as w:
        url = reverse("helpdesks:ticket-api", kwargs={"connection_id": w.connection.pk})
        client = Client()
        client.force_login(agent("agent", "jane"))

        wrong_person = post(client, url, person_id=bob)
        assert (
            wrong_person.status_code == 400 and "not the requester" in wrong_person.json()["error"]
        )
        wrong_doc = post(client, url, document_id=bobs_doc)
        assert wrong_doc.status_code == 400 and "not the requester's" in wrong_doc.json()["error"]
        assert w.fake.requests == []  # refused before any call to the helpdesk

        # Bob's own ticket, opened by billingdesk, with his receipt: fine.
        bobs = post(
            client, url, requester_email="bob@example.com", person_id=bob, document_id=bobs_doc
        )
        assert bobs.status_code == 201 and bobs.json()["person_id"] == bob
        ticket = bobs.json()["ticket_id"]
        # Ana's note cannot go into Bob's ticket, nor into a ticket billingdesk never saw.
        for other in (ticket, "777"):
            refused = post(client, url, person_id=ana, ticket_id=other)
            assert refused.status_code == 400 and "not known as" in refused.json()["error"]
        # Bob's follow-up may.
        follow = post(client, url, requester_email="bob@example.com", ticket_id=ticket)
        assert follow.status_code == 200 and follow.json()["person_id"] == bob
        assert Person.objects.filter(pk=ana).exists()


def test_a_panels_proof_names_the_ticket_and_its_requester(no_sleep: list[float]) -> None:
    _setup()
    with wired("zendesk") as w:
        url = reverse("helpdesks:ticket-api", kwargs={"connection_id": w.connection.pk})
        client = Client()
        client.force_login(agent("agent", "jane"))
        frame = HelpdeskConnection.objects.create(
            name="frame", kind="iframe", secrets={"signing_secret": "s3"}
        )
        entry = reverse("helpdesks:iframe", kwargs={"connection_id": frame.pk})
        query = signed_query("s3", email="ana@example.com", conversation="4242")
        other_proof = token_of(Client().get(f"{entry}?{query}"))
        # A proof of another connection proves nothing here.
        assert post(client, url, ticket_id="4242", bearer=other_proof).status_code == 400
        # A ticket the helpdesk has and billingdesk never recorded (opened by the customer).
        ticket = post(client, url).json()["ticket_id"]
        HelpdeskTicket.objects.all().delete()
        assert post(client, url, ticket_id=ticket).status_code == 400
        # A proof of the ticket's own connection (as its panel holds): the named conversation
        # is the requester's ticket.
        proof = _proof_for(w.connection, email="ana@example.com", conversation=ticket)
        ok = post(client, url, ticket_id=ticket, bearer=proof)
        assert ok.status_code == 200, ok.json()
        assert post(client, url, ticket_id=ticket + "0", bearer=proof).status_code == 400
        refused = post(
            client, url, requester_email="bob@example.com", ticket_id=ticket, bearer=proof
        )
        assert refused.status_code == 400 and "not the customer" in refused.json()["error"]


def _proof_for(connection: HelpdeskConnection, **launch: str) -> str:
    from billingdesk.helpdesks import embed
    from billingdesk.helpdesks.interface import Launch

    return embed.launch_token_issue(
        connection,
        Launch(customer_email=launch["email"], conversation_id=launch["conversation"]),
    )
