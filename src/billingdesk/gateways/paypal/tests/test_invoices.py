"""PayPal invoices (Invoicing v2) against the fake over HTTP: the backfill's pages, the
``INVOICING.INVOICE.*`` webhooks, and sending one to its recipient."""

from __future__ import annotations

import pytest
from tests.fakes.paypal_api import Merchant, PayPalFake
from tests.fakes.paypal_signer import PayPalSigner

from billingdesk.billing.models import Charge, Customer, Invoice
from billingdesk.core.errors import NotAllowed
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, SyncRun
from billingdesk.gateways.paypal.connector import PayPalConnector
from billingdesk.gateways.sync import account_backfill
from billingdesk.gateways.webhooks import webhook_receive

from .conftest import make_account
from .test_webhooks import _processed, cert_url

pytestmark = pytest.mark.django_db


def test_backfill_pages_through_every_invoice_with_minor_units_and_the_recipient(
    fake: PayPalFake, account: GatewayAccount, merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PayPalConnector, "invoice_page_size", 2)
    capture = fake.add_payment(merchant, email="ada@example.com", amount="40.00")
    sent = fake.add_invoice(merchant, email="Ada@Example.com", amount="12.34", number="A-1")
    paid = fake.add_invoice(merchant, email="ada@example.com", amount="99.99", status="PAID")
    fake.invoice_change(paid, "PAID", payment_id=capture["id"])
    fake.add_invoice(merchant, email="bo@example.com", amount="5.00", status="CANCELLED")
    fake.add_invoice(merchant, email="bo@example.com", amount="1.00", status="DRAFT")
    yen = fake.add_invoice(merchant, email="jp@example.com", amount="1500", currency="JPY")

    run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    rows = {i.gateway_id: i for i in Invoice.objects.filter(account=account)}
    assert len(rows) == 5
    first = rows[sent["id"]]
    assert (first.status, first.number, first.total, first.amount_due, first.currency) == (
        "open",
        "A-1",
        1234,
        1234,
        "EUR",
    )
    assert first.hosted_url.startswith("https://www.sandbox.paypal.com/invoice/p/")
    assert first.due_date is not None
    assert (rows[paid["id"]].status, rows[paid["id"]].amount_paid) == ("paid", 9999)
    assert rows[paid["id"]].amount_due == 0
    assert {r.status for r in rows.values()} == {"open", "paid", "void", "draft"}
    assert (rows[yen["id"]].total, rows[yen["id"]].currency) == (1500, "JPY")
    # The recipient, by email: the same person as the payer with that email.
    assert first.customer is not None and first.customer.email.lower() == "ada@example.com"
    assert rows[paid["id"]].customer == first.customer
    payer = Customer.objects.get(account=account, gateway_id=capture["payer"]["payer_id"])
    assert payer.person_id is not None and payer.person_id == first.customer.person_id
    # The payment PayPal names on the paid invoice is linked to it.
    charge = Charge.objects.get(account=account, gateway_id=capture["id"])
    assert charge.invoice == rows[paid["id"]]
    # 5 invoices, 2 a page: three pages, each asked once.
    assert fake.calls("/v2/invoicing/invoices") == 3


def test_a_merchant_without_invoicing_backfills_the_rest(fake: PayPalFake, db: None) -> None:
    account = make_account(fake, client_id="noinv")
    m = fake.merchants["noinv"]
    m.invoicing = False
    fake.add_payment(m, email="x@example.com", amount="3.00")

    run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    assert not Invoice.objects.filter(account=account).exists()
    assert Charge.objects.filter(account=account).count() == 1


def test_invoicing_webhooks_create_then_pay_then_cancel_the_mirrored_invoice(
    fake: PayPalFake, signer: PayPalSigner, account: GatewayAccount, merchant: Merchant
) -> None:
    inv = fake.add_invoice(merchant, email="cy@example.com", amount="20.00", status="DRAFT")
    other = fake.add_invoice(merchant, email="cy@example.com", amount="7.00")

    def deliver(body: bytes) -> None:
        headers = signer.headers(
            body, webhook_id=account.credentials["webhook_id"], cert_url=cert_url(fake)
        )
        assert webhook_receive(account=account, headers=headers, body=body).status_code == 200
        _processed(account)

    deliver(fake.invoice_event(inv, "INVOICING.INVOICE.CREATED"))
    row = Invoice.objects.get(account=account, gateway_id=inv["id"])
    assert (row.status, row.total, row.amount_due) == ("draft", 2000, 0)
    assert row.customer is not None and row.customer.email == "cy@example.com"

    fake.invoice_change(inv, "SENT")
    deliver(fake.invoice_event(inv, "INVOICING.INVOICE.UPDATED"))
    row.refresh_from_db()
    assert (row.status, row.amount_due) == ("open", 2000)

    fake.invoice_change(inv, "PAID")
    deliver(fake.invoice_event(inv, "INVOICING.INVOICE.PAID"))
    row.refresh_from_db()
    assert (row.status, row.amount_paid, row.amount_due) == ("paid", 2000, 0)

    fake.invoice_change(other, "CANCELLED")
    deliver(fake.invoice_event(other, "INVOICING.INVOICE.CANCELLED"))
    assert Invoice.objects.get(account=account, gateway_id=other["id"]).status == "void"


def test_send_goes_to_the_recipient_once_even_when_retried_with_the_same_key(
    fake: PayPalFake, merchant: Merchant, connector: PayPalConnector
) -> None:
    assert connector.supports(gw.Capability.SEND_INVOICE)
    inv = fake.add_invoice(merchant, email="dee@example.com", amount="10.00", status="DRAFT")

    first = connector.invoice_send(invoice_id=inv["id"], idempotency_key="act-1")
    again = connector.invoice_send(invoice_id=inv["id"], idempotency_key="act-1")

    assert merchant.invoice_sends == [
        (inv["id"], {"send_to_invoicer": False, "send_to_recipient": True})
    ]
    for result in (first, again):
        sent = next(o for o in result.objects if isinstance(o, gw.GwInvoice))
        assert (sent.id, sent.status, sent.amount_due) == (inv["id"], gw.InvoiceStatus.OPEN, 1000)
    assert inv["status"] == "SENT"
    # Another key is another send: PayPal reminds the recipient of the same invoice.
    connector.invoice_send(invoice_id=inv["id"], idempotency_key="act-2")
    assert len(merchant.invoice_sends) == 2


@pytest.mark.parametrize(
    ("status", "words"), [("PAID", "already been paid"), ("CANCELLED", "was cancelled")]
)
def test_a_paid_or_cancelled_invoice_is_refused_in_words_and_nothing_is_sent(
    fake: PayPalFake, merchant: Merchant, connector: PayPalConnector, status: str, words: str
) -> None:
    inv = fake.add_invoice(merchant, email="eve@example.com", amount="10.00")
    fake.invoice_change(inv, status)

    with pytest.raises(NotAllowed, match=words) as refused:
        connector.invoice_send(invoice_id=inv["id"], idempotency_key="act-9")

    assert merchant.invoice_sends == []
    assert fake.calls(f"/v2/invoicing/invoices/{inv['id']}/send") == 0
    assert any(isinstance(o, gw.GwInvoice) for o in refused.value.refreshed)


def test_paypal_s_own_refusal_of_a_send_reaches_the_agent_in_words(
    fake: PayPalFake, merchant: Merchant, connector: PayPalConnector
) -> None:
    """Paid at PayPal between the read and the send: PayPal's 422 becomes the refusal."""
    inv = fake.add_invoice(merchant, email="fay@example.com", amount="10.00")
    original = connector.api.get

    def read_then_pay(path: str, *args: object, **kw: object) -> dict[str, object]:
        answer = original(path, *args, **kw)  # type: ignore[arg-type]
        if inv["status"] == "SENT":
            fake.invoice_change(inv, "MARKED_AS_PAID")
        return answer

    connector.api.get = read_then_pay  # type: ignore[method-assign]
    with pytest.raises(NotAllowed, match="already been paid"):
        connector.invoice_send(invoice_id=inv["id"], idempotency_key="act-7")
    assert fake.calls(f"/v2/invoicing/invoices/{inv['id']}/send") == 1
    assert merchant.invoice_sends == []
