"""The panel's HTML is escaped by construction and links only http(s) addresses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from billingdesk.billing.models import Customer, Invoice
from billingdesk.gateways.models import GatewayAccount

HOSTILE = '"><script>alert(1)</script>'


@pytest.mark.parametrize("view", ["/console/person/{}/", "/panel/person/{}/"])
def test_gateway_urls_with_another_scheme_are_not_links(
    ana: Customer, client_as: Callable[..., Client], view: str
) -> None:
    GatewayAccount.objects.update(dashboard_url="javascript:alert(document.cookie)")
    assert Invoice.objects.filter(customer__person_id=ana.person_id).exists()
    Invoice.objects.update(hosted_url="javascript:alert(1)", pdf_url=" JAVASCRIPT:alert(2)")
    body = client_as().get(view.format(ana.person_id)).content.decode()

    assert "javascript:" not in body.lower()
    assert "view ↗" not in body and "PDF ↗" not in body and "dashboard ↗" not in body


def test_http_gateway_urls_stay_links(ana: Customer, client_as: Callable[..., Client]) -> None:
    Invoice.objects.update(
        hosted_url="https://pay.example/i?a=1&b=2", pdf_url="https://pay.example/i.pdf"
    )
    body = client_as().get(f"/console/person/{ana.person_id}/").content.decode()

    assert 'href="https://pay.example/i?a=1&amp;b=2"' in body
    assert 'href="https://pay.example/i.pdf"' in body


def test_every_customer_controlled_value_is_escaped(
    ana: Customer, client_as: Callable[..., Client]
) -> None:
    Customer.objects.filter(pk=ana.pk).update(name=HOSTILE, phone=HOSTILE)
    GatewayAccount.objects.filter(pk=ana.account_id).update(name=HOSTILE)
    Invoice.objects.update(number=HOSTILE)
    client = client_as()
    for view in ("/console/person/{}/", "/panel/person/{}/"):
        body = client.get(view.format(ana.person_id)).content.decode()
        assert "<script>alert(1)" not in body
        assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body
