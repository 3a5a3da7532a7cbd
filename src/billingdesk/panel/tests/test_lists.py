"""The console's lists across every person: filters, keyset pages, plain words, 400s."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from billingdesk.billing.models import Charge, Customer
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel import lists

from .factories import add_customer


@pytest.fixture
def many(eu: GatewayAccount, us: GatewayAccount) -> list[Customer]:
    """Three customers, 12 charges in EUR and 2 in USD."""
    return [
        add_customer(eu, "cus_a", charges=7, email="a@example.com", name="Alma Ruiz"),
        add_customer(eu, "cus_b", charges=5, email="b@example.com", name="Bea Roux"),
        add_customer(us, "cus_c", charges=2, currency="USD", email="c@example.com", name="Cy"),
    ]


@pytest.mark.parametrize("slug", list(lists.SPECS))
def test_every_list_answers_for_a_read_only_agent(
    many: list[Customer], client_as: Callable[..., Client], slug: str
) -> None:
    response = client_as("read_only").get(f"/console/lists/{slug}/")

    assert response.status_code == 200
    assert b"<table" in response.content


def test_charges_pages_follow_each_other_without_overlap_or_gap(
    many: list[Customer], client_as: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = lists.SPECS["charges"]
    seen: list[str] = []
    filters = lists.ListFilters()
    while True:
        page = lists.list_page(spec, filters, size=4)
        seen += [row[-1].text for row in page.rows]
        if not page.next_cursor:
            break
        filters = lists.parse_filters(spec, {"after": page.next_cursor})

    expected = list(
        Charge.objects.order_by("-gateway_created_at", "-id").values_list("gateway_id", flat=True)
    )
    assert seen == expected
    assert len(seen) == 14


def test_the_next_link_carries_the_filters(
    many: list[Customer], client_as: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "PAGE_ROWS", 3)
    client = client_as("read_only")
    first = client.get("/console/lists/charges/", {"currency": "EUR"})
    body = first.content.decode()
    assert body.count("<tr>") == 1 + 3
    next_link = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "currency=EUR" in next_link and "after=" in next_link

    second = client.get(next_link.replace("&amp;", "&"))

    assert second.status_code == 200
    assert "USD" not in second.content.decode().split("<tbody>")[1].replace("US SaaS", "")


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 14),
        ({"currency": "USD"}, 2),
        ({"status": "partially_refunded"}, 6),
        ({"currency": "EUR", "min": "19", "max": "19.00"}, 12),
        ({"currency": "EUR", "min": "20"}, 0),
        ({"from": "2026-03-03", "to": "2026-03-04"}, 4),
    ],
)
def test_charge_filters(many: list[Customer], params: dict[str, str], count: int) -> None:
    spec = lists.SPECS["charges"]
    page = lists.list_page(spec, lists.parse_filters(spec, params), size=100)
    assert len(page.rows) == count


def test_the_account_filter(many: list[Customer], us: GatewayAccount) -> None:
    spec = lists.SPECS["charges"]
    page = lists.list_page(spec, lists.parse_filters(spec, {"account": str(us.pk)}), size=100)
    assert {row[5].text for row in page.rows} == {"US SaaS"}


def test_statuses_and_reasons_are_plain_words(
    many: list[Customer], client_as: Callable[..., Client]
) -> None:
    client = client_as("read_only")
    charges = client.get("/console/lists/charges/").content.decode()
    disputes = client.get("/console/lists/disputes/").content.decode()

    assert "Partly refunded" in charges and ">partially_refunded<" not in charges
    assert "Fraudulent" in disputes and "Needs a response" in disputes
    assert ">needs_response<" not in disputes


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"account": "not-a-uuid"}, "Choose a gateway account"),
        ({"status": "nope"}, "Choose a status"),
        ({"from": "03/12/2026"}, "YYYY-MM-DD"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "ends before it starts"),
        ({"min": "10"}, "Choose a currency"),
        ({"currency": "EURO"}, "is not a currency code"),
        ({"currency": "EUR", "min": "ten"}, "is not an amount"),
        ({"currency": "EUR", "min": "20", "max": "10"}, "smallest amount"),
        ({"after": "garbage!"}, "page link is damaged"),
        ({"agent": "3"}, "cannot be filtered by agent"),
        ({"status": "x" * 500}, "too long"),
    ],
)
def test_bad_filters_are_a_400_with_the_reason(
    many: list[Customer], client_as: Callable[..., Client], params: dict[str, str], reason: str
) -> None:
    response = client_as("read_only").get("/console/lists/charges/", params)

    assert response.status_code == 400
    assert reason in response.content.decode()


def test_an_unknown_list_is_a_styled_404(client_as: Callable[..., Client]) -> None:
    response = client_as("read_only").get("/console/lists/payouts/")

    assert response.status_code == 404
    assert "There is no list called" in response.content.decode()


def test_agent_actions_filter_by_agent(
    many: list[Customer], client_as: Callable[..., Client]
) -> None:
    response = client_as("read_only").get("/console/lists/actions/", {"agent": "99999"})

    assert response.status_code == 200
    assert "Nothing matches these filters." in response.content.decode()


def test_the_charges_of_one_person_are_paged_and_filtered(
    many: list[Customer], client_as: Callable[..., Client]
) -> None:
    alma = many[0]
    client = client_as("read_only")
    response = client.get(f"/console/person/{alma.person_id}/charges/")
    body = response.content.decode()

    assert response.status_code == 200
    assert body.count("ch_cus_a_") == 7 and "ch_cus_b_" not in body
    refunded = client.get(
        f"/console/person/{alma.person_id}/charges/", {"status": "partially_refunded"}
    ).content.decode()
    assert refunded.count("ch_cus_a_") == 3
    assert client.get(f"/console/person/{alma.person_id}/charges/", {"to": "x"}).status_code == 400
    assert client.get("/console/person/999999/charges/").status_code == 404
