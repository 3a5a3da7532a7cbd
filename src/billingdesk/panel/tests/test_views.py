"""The console, the person page and the compact panel, as an agent sees them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billingdesk.billing.models import Charge, Customer, Refund, Subscription
from billingdesk.documents.models import Document
from billingdesk.documents.tests.conftest import shop_create
from billingdesk.gateways.models import GatewayAccount

from .factories import Shop, add_customer


@pytest.mark.parametrize(
    "url", ["/console/", "/console/person/1/", "/panel/person/1/", "/console/approvals/"]
)
def test_every_page_needs_a_signed_in_agent(db: None, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_search_by_email_lists_the_person_with_how_it_matched(
    ana: Customer, client_as: Callable[..., Client]
) -> None:
    response = client_as("read_only").get("/console/", {"q": "ana.lopez@EXAMPLE.com"})

    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/console/person/{ana.person_id}/"' in body
    assert "email · 95%" in body
    assert "EU store" in body and "US SaaS" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type an email"),
        ("!!!", "Nothing to search for"),
        ("@", "is not an email"),
    ],
)
def test_bad_searches_say_why_and_are_no_500(
    db: None, client_as: Callable[..., Client], query: str, message: str
) -> None:
    response = client_as().get("/console/", {"q": query})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_search_with_no_hit_says_so(ana: Customer, client_as: Callable[..., Client]) -> None:
    response = client_as().get("/console/", {"q": "ch_does_not_exist"})

    assert response.status_code == 200
    assert "Nobody matches" in response.content.decode()


@pytest.mark.parametrize("url", ["/console/person/{}/", "/panel/person/{}/"])
def test_unknown_person_is_404(db: None, client_as: Callable[..., Client], url: str) -> None:
    assert client_as().get(url.format(987654)).status_code == 404


def test_person_page_shows_everything(ana: Customer, client_as: Callable[..., Client]) -> None:
    response = client_as("read_only").get(f"/console/person/{ana.person_id}/")

    assert response.status_code == 200
    body = response.content.decode()
    for expected in (
        "ch_cus_ana_eu_2",  # charges
        "re_cus_ana_eu_1",  # refunds
        "dp_cus_ana_eu_2",  # disputes
        "sub_cus_ana_eu",  # subscriptions
        "INV-cus_ana_eu-0",  # invoices
        "visa •••• 1111",  # cards
        "matched by email · 95%",
        "https://dashboard.example/eu",
        "€19.00",
        "refunded €5.00",
    ):
        assert expected in body, expected


def test_panel_is_compact_and_says_there_is_more(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    busy = add_customer(eu, "cus_busy", charges=14, email="busy@example.com", name="Busy")

    response = client_as().get(f"/panel/person/{busy.person_id}/")

    body = response.content.decode()
    assert body.count("data-charge=") == 10
    assert f'href="/console/person/{busy.person_id}/#charges"' in body
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_panel_queries_do_not_grow_with_history(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    small = add_customer(eu, "cus_small", charges=1, email="small@example.com")
    big = add_customer(eu, "cus_big", charges=30, email="big@example.com")
    client = client_as()

    counts = []
    for person_id in (small.person_id, big.person_id):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/panel/person/{person_id}/").status_code == 200
        counts.append(len(ctx.captured_queries))

    assert counts[0] == counts[1]
    # The session and the user, the agent's role, the requests awaiting approval on the rows
    # shown, then the panel's own (see panel_data).
    assert counts[0] == 4 + (3 if connection.vendor == "postgresql" else 14)


def test_output_is_escaped(eu: GatewayAccount, client_as: Callable[..., Client]) -> None:
    evil = add_customer(eu, "cus_evil", email="evil@example.com", name="<script>alert(1)</script>")

    body = client_as().get(f"/panel/person/{evil.person_id}/").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_customer_text_in_the_rows_is_escaped(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    evil = add_customer(eu, "cus_evil2", charges=3, email="evil2@example.com", name="Eve")
    Charge.objects.filter(customer=evil).update(
        description="<script>alert('charge')</script>", failure_message="<b>declined</b>"
    )
    Refund.objects.filter(charge__customer=evil).update(reason="<img src=x onerror=alert(2)>")
    Subscription.objects.filter(customer=evil).update(product='Pro"><script>alert(3)</script>')

    client = client_as()
    for url in (f"/panel/person/{evil.person_id}/", f"/console/person/{evil.person_id}/"):
        body = client.get(url).content.decode()

        assert "<script>" not in body.split("</head>")[1]
        assert "<b>declined</b>" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(&#x27;charge&#x27;)&lt;/script&gt;" in body
        assert "&lt;b&gt;declined&lt;/b&gt;" in body
        assert "&lt;img src=x onerror=alert(2)&gt;" in body
        assert "Pro&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in body


def test_read_only_agents_see_no_action_buttons(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    url = f"/panel/person/{shop.customer.person_id}/"

    read_only = client_as("read_only").get(url).content.decode()
    agent = client_as("agent").get(url).content.decode()

    assert "data-action=" not in read_only
    assert "read-only" in read_only
    assert 'data-action="refund"' in agent
    assert 'data-action="cancel_subscription"' in agent
    assert 'data-action="capture"' in agent and 'data-action="void"' in agent


def test_approvals_page_is_for_finance(db: None, client_as: Callable[..., Client]) -> None:
    assert client_as("read_only").get("/console/approvals/").status_code == 403
    # An agent gets their own requests there (no decision buttons), linked as "My requests".
    mine = client_as("agent").get("/console/approvals/")
    assert mine.status_code == 200
    assert "My requests" in mine.content.decode() and "Approve" not in mine.content.decode()
    assert ">Approvals</a>" not in mine.content.decode()
    response = client_as("finance").get("/console/approvals/")
    assert ">Approvals</a>" in response.content.decode()
    assert response.status_code == 200
    assert "Nothing is waiting for approval" in response.content.decode()


def test_panel_lists_documents_and_shows_a_message_once(
    db: None, drain_tasks: Callable[[], None], client_as: Callable[..., Client]
) -> None:
    shop = shop_create("DE")
    charge = shop.pay(amount=1190, country="DE")
    drain_tasks()
    shop.refund(charge, 500)
    drain_tasks()
    receipt, credit_note = Document.objects.filter(charge=charge).order_by("id")
    url = f"/panel/person/{receipt.person_id}/"
    agent = client_as("agent")

    resent = agent.post(f"/documents/{receipt.pk}/resend", {"next": url}, follow=True)

    body = resent.content.decode()
    assert body.count(f"{receipt.number} will be emailed to the customer again.") == 1
    assert f"corrects {receipt.get_kind_display()} {receipt.number}" in body
    assert f'action="/documents/{credit_note.pk}/resend"' in body
    assert "will be emailed" not in agent.get(url).content.decode()
    read_only = client_as("read_only").get(url).content.decode()
    assert f'href="/documents/{receipt.pk}/pdf"' in read_only
    assert "Resend</button>" not in read_only  # (the audit line "Resend document" stays)
