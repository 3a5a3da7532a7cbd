"""One customer who pays through every gateway is one person: backfilled from each
gateway's own API (the real connectors against their fakes), matched by email written
differently, and shown together — every account's records — on the console's person page
and in the panel."""

from __future__ import annotations

import pytest
from django.test import Client

from billingdesk.billing.models import Customer, Person
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.tests.factories import agent
from tests.contract.conftest import GATEWAY_HARNESSES

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = ("stripe", "paypal", "braintree", "recurly", "woocommerce", "sandbox")


def test_one_person_across_every_gateway(request: pytest.FixtureRequest) -> None:
    emails = {
        "stripe": "Ada.Lovelace@Example.com",
        "paypal": "ada.lovelace@example.com",
        "braintree": "ADA.LOVELACE@example.com",
        "recurly": "ada.lovelace@example.com",
        "woocommerce": "Ada.Lovelace@example.COM",
        "sandbox": "ada.lovelace@example.com",
    }
    accounts = {}
    for kind in KINDS:
        harness = GATEWAY_HARNESSES[kind](request)
        account = harness.account(f"{kind} shop")
        harness.seed_customers(account, [emails[kind]])
        account_backfill(account=account)
        accounts[kind] = account
    customers = Customer.objects.filter(email__iexact="ada.lovelace@example.com")
    assert {c.account_id for c in customers} == {a.pk for a in accounts.values()}
    (person_id,) = {c.person_id for c in customers}
    assert person_id is not None and Person.objects.count() == 1

    client = Client()
    client.force_login(agent("agent"))
    for path in (f"/console/person/{person_id}/", f"/panel/person/{person_id}/"):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        for kind in KINDS:
            assert f"{kind} shop" in html, (path, kind)
