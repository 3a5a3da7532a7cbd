"""The sandbox's hosted pay and card pages, reached by the links its connector hands out."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.models import SandboxObject

pytestmark = pytest.mark.django_db

CARD = {"exp_month": "12", "exp_year": "2040", "cvc": "123"}


def _path(url: str) -> str:
    return urlsplit(url).path


def _pay_link(account: GatewayAccount, customer: SandboxObject) -> tuple[str, str]:
    result = SandboxConnector(account).payment_request_create(
        customer_id=customer.object_id,
        amount=2599,
        currency="EUR",
        description="Replacement <b>grinder</b>",
        idempotency_key="pr-1",
    )
    [invoice] = [o for o in result.objects if o.kind == "invoice"]
    return _path(result.url), invoice.id


def test_payment_request_is_an_open_invoice_with_a_pay_page(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    path, invoice_id = _pay_link(account, customer)

    assert SandboxObject.objects.get(object_id=invoice_id).data["status"] == "open"
    page = client.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "€25.99" in text
    assert "Replacement &lt;b&gt;grinder&lt;/b&gt;" in text  # escaped
    assert "csrfmiddlewaretoken" in text


def test_declined_card_on_the_pay_page_shows_why_and_leaves_it_open(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    path, invoice_id = _pay_link(account, customer)

    page = client.post(path, {"number": "4000 0000 0000 9995", **CARD})

    assert page.status_code == 402
    assert "insufficient funds" in page.content.decode()
    assert SandboxObject.objects.get(object_id=invoice_id).data["status"] == "open"
    assert SandboxObject.objects.get(kind="charge").data["status"] == "failed"


def test_paying_with_a_test_card(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    path, invoice_id = _pay_link(account, customer)

    page = client.post(path, {"number": "4242 4242 4242 4242", **CARD})

    assert page.status_code == 200
    assert "Paid" in page.content.decode()
    invoice = SandboxObject.objects.get(object_id=invoice_id).data
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 2599
    assert "4242424242424242" not in str(
        SandboxObject.objects.get(object_id=invoice["charge"]).data
    )
    again = client.post(path, {"number": "4242424242424242", **CARD})
    assert again.status_code == 200
    assert SandboxObject.objects.filter(kind="charge").count() == 1  # not charged twice


@pytest.mark.parametrize(
    "form",
    [
        {"number": "1234", **CARD},
        {"number": "4242424242424242", "exp_month": "13", "exp_year": "2040", "cvc": "123"},
        {"number": "4242424242424242", "exp_month": "1", "exp_year": "2001", "cvc": "123"},
        {"number": "4242424242424242", "exp_month": "x", "exp_year": "", "cvc": "12345"},
        {},
    ],
)
def test_bad_card_input_is_a_clear_400(
    client: Client, account: GatewayAccount, customer: SandboxObject, form: dict[str, str]
) -> None:
    path, invoice_id = _pay_link(account, customer)
    page = client.post(path, form)
    assert page.status_code == 400
    assert 'class="errorlist' in page.content.decode()
    assert SandboxObject.objects.get(object_id=invoice_id).data["status"] == "open"


def test_unknown_card_number_is_refused_plainly(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    path, _ = _pay_link(account, customer)
    page = client.post(path, {"number": "4111 1111 1111 1111", **CARD})
    assert page.status_code == 400
    assert "only accepts test card numbers" in page.content.decode()


def test_forged_or_broken_links_are_404(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    path, _ = _pay_link(account, customer)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(forged).status_code == 404
    assert client.get("/sandbox/pay/garbage/").status_code == 404
    assert client.post("/sandbox/card/garbage/", {}).status_code == 404


def test_pay_page_requires_csrf_token(account: GatewayAccount, customer: SandboxObject) -> None:
    path, invoice_id = _pay_link(account, customer)
    strict = Client(enforce_csrf_checks=True)
    page = strict.post(path, {"number": "4242424242424242", **CARD})
    assert page.status_code == 403
    assert SandboxObject.objects.get(object_id=invoice_id).data["status"] == "open"


def test_card_update_page_replaces_the_default_card(
    client: Client, account: GatewayAccount, customer: SandboxObject
) -> None:
    result = SandboxConnector(account).card_update_start(
        customer_id=customer.object_id, return_url="https://shop.example/billing"
    )
    assert result.objects == []
    path = _path(result.url)
    assert client.get(path).status_code == 200

    declined = client.post(path, {"number": "4000000000000002", **CARD})
    assert declined.status_code == 402
    page = client.post(path, {"number": "5555 5555 5555 4444", **CARD})

    assert page.status_code == 200
    text = page.content.decode()
    assert "ending in 4444" in text and "https://shop.example/billing" in text
    customer.refresh_from_db()
    default = SandboxObject.objects.get(
        object_id=customer.data["invoice_settings"]["default_payment_method"]
    )
    assert default.data["card"]["last4"] == "4444"
    assert SandboxObject.objects.filter(kind="payment_method").count() == 2


def test_card_update_start_checks_its_input(
    account: GatewayAccount, customer: SandboxObject
) -> None:
    from billingdesk.core.errors import InvalidRequest, NotFound

    connector = SandboxConnector(account)
    with pytest.raises(NotFound):
        connector.card_update_start(customer_id="cus_nope", return_url="")
    with pytest.raises(InvalidRequest):
        connector.card_update_start(
            customer_id=customer.object_id, return_url="javascript:alert(1)"
        )
