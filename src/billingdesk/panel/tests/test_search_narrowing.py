"""Narrowing a search by subscription status and by when the person was charged (#5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from billingdesk.billing.models import Customer, Subscription
from billingdesk.gateways.models import GatewayAccount

from .factories import add_customer


@pytest.fixture
def two_roux(eu: GatewayAccount) -> tuple[Customer, Customer]:
    """Two persons named Roux: Bea charged from 1 March 2026 for 5 days, Marc for 2 days,
    Marc's subscription past due."""
    bea = add_customer(eu, "cus_bea", charges=5, email="bea@example.com", name="Bea Roux")
    marc = add_customer(eu, "cus_marc", charges=2, email="marc@example.org", name="Marc Roux")
    Subscription.objects.filter(customer=marc).update(status="past_due")
    return bea, marc


def _names(body: str) -> set[str]:
    return {name for name in ("Bea Roux", "Marc Roux") if f"<strong>{name}</strong>" in body}


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({}, {"Bea Roux", "Marc Roux"}),
        ({"status": "past_due"}, {"Marc Roux"}),
        ({"status": "active"}, {"Bea Roux"}),
        ({"status": "canceled"}, set()),
        ({"charged_from": "2026-03-04"}, {"Bea Roux"}),
        ({"charged_to": "2026-03-01"}, {"Bea Roux", "Marc Roux"}),
        ({"charged_from": "2026-03-02", "charged_to": "2026-03-02"}, {"Bea Roux", "Marc Roux"}),
        ({"charged_from": "2026-04-01"}, set()),
    ],
)
def test_search_narrowed_by_status_and_period(
    two_roux: tuple[Customer, Customer],
    client_as: Callable[..., Client],
    params: dict[str, str],
    found: set[str],
) -> None:
    response = client_as("read_only").get("/console/", {"q": "roux", **params})

    assert response.status_code == 200
    body = response.content.decode()
    assert _names(body) == found
    count = len(found)
    assert f"{count} person{'s' if count != 1 else ''} found" in body


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"status": "nope"}, "Choose a subscription status"),
        ({"charged_from": "1/3/2026"}, "YYYY-MM-DD"),
        ({"charged_to": "2026-02-30"}, "YYYY-MM-DD"),
        ({"charged_from": "2026-03-05", "charged_to": "2026-03-01"}, "ends before it starts"),
    ],
)
def test_bad_narrowing_is_a_400_with_the_reason(
    two_roux: tuple[Customer, Customer],
    client_as: Callable[..., Client],
    params: dict[str, str],
    reason: str,
) -> None:
    response = client_as("read_only").get("/console/", {"q": "roux", **params})

    assert response.status_code == 400
    assert reason in response.content.decode()


def test_page_links_keep_the_narrowing(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    for n in range(23):
        add_customer(eu, f"cus_{n}", charges=1, email=f"p{n}@example.com", name=f"Lou Roux{n}")

    body = (
        client_as("read_only")
        .get("/console/", {"q": "lou", "status": "active", "charged_from": "2026-03-01"})
        .content.decode()
    )

    assert "23 persons found" in body
    assert "status=active" in body and "charged_from=2026-03-01" in body and "page=2" in body


def test_no_space_before_commas_between_accounts(
    two_roux: tuple[Customer, Customer], client_as: Callable[..., Client], us: GatewayAccount
) -> None:
    add_customer(us, "cus_bea_us", email="bea@example.com", name="Bea Roux")

    body = client_as("read_only").get("/console/", {"q": "bea@example.com"}).content.decode()

    assert "</code>, " in body
    assert " ," not in body and " ·," not in body
