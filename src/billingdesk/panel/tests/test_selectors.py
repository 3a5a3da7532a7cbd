"""Finding a person from whatever the agent types, and reading everything about them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billingdesk.billing.models import Customer, MatchMethod
from billingdesk.core.errors import InvalidRequest, NotFound
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.formatting import money_display
from billingdesk.panel.selectors import QueryKind, panel_data, person_search, query_kinds

from .factories import add_customer


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("ana@example.com", (QueryKind.EMAIL,)),
        ("4242", (QueryKind.CARD_LAST4, QueryKind.ID)),
        ("**** 4242", (QueryKind.CARD_LAST4, QueryKind.ID)),
        ("+33 6 12 34 56 78", (QueryKind.PHONE,)),
        ("0612345678", (QueryKind.PHONE, QueryKind.ID)),
        ("ch_123", (QueryKind.ID,)),
        ("ORD-17-2", (QueryKind.ID,)),
        ("Ana López", (QueryKind.NAME,)),
        ("!!!", ()),
    ],
)
def test_query_kinds(query: str, kinds: tuple[QueryKind, ...]) -> None:
    assert query_kinds(query) == kinds


@pytest.mark.parametrize(
    ("query", "matched_by"),
    [
        ("ANA.LOPEZ@example.com", "email"),
        ("+33612345678", "phone"),
        ("06 12 34 56 78", "phone"),  # national format, read in the customer's country
        ("1111", "card last 4"),
        ("ch_cus_ana_eu_1", "charge or transaction id"),
        ("pi_cus_ana_eu_2", "charge or transaction id"),
        ("ORD-cus_ana_us-0", "order id"),
        ("cus_ana_us", "gateway customer id"),
        ("sub_cus_ana_eu", "subscription id"),
        ("in_cus_ana_eu_0", "invoice id"),
        ("INV-cus_ana_eu-2", "invoice number"),
        ("re_cus_ana_eu_1", "refund id"),
        ("ana lópez", "name"),
        ("Ana", "name words"),
        ("Lop", "name starts with"),
        ("ana lo", "name starts with"),
    ],
)
def test_search_finds_the_person_by_each_key(
    ana: Customer, query: str, matched_by: str | None
) -> None:
    result = person_search(query)

    if matched_by is None:
        assert result.hits == []
        return
    assert [hit.person.pk for hit in result.hits] == [ana.person_id]
    assert result.hits[0].matched_by == matched_by
    assert {c.gateway_id for c in result.hits[0].customers} == {"cus_ana_eu", "cus_ana_us"}


def test_search_ranks_strong_keys_above_weak_ones(ana: Customer, eu: GatewayAccount) -> None:
    # Given someone else who happens to have the same card last 4
    other = add_customer(eu, "cus_bo", email="bo@example.com", name="Bo", last4="1111")

    result = person_search("1111")

    assert {hit.person.pk for hit in result.hits} == {ana.person_id, other.person_id}
    assert all(hit.confidence == 30 for hit in result.hits)


def test_search_exact_name_outranks_prefix(ana: Customer, eu: GatewayAccount) -> None:
    add_customer(eu, "cus_anab", email="anabel@example.com", name="Anabel Ruiz")
    add_customer(eu, "cus_an", email="an@example.com", name="Ana")

    hits = person_search("ana").hits

    assert hits[0].matched_by == "name"
    assert hits[0].matched_on == "Ana"
    # A whole word of the name ranks above a word's beginning.
    assert [(h.matched_by, h.matched_on) for h in hits[1:]] == [
        ("name words", "Ana López"),
        ("name starts with", "Anabel Ruiz"),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type an email"),
        ("   ", "Type an email"),
        ("!!!", "Nothing to search for"),
        ("x" * 400, "too long"),
        ("@", "is not an email address"),
        ("@@ @", "is not an email address"),
    ],
)
def test_search_refuses_what_it_cannot_look_up(db: None, query: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        person_search(query)


def test_search_for_nobody_finds_nobody(ana: Customer) -> None:
    assert person_search("nobody@example.com").hits == []
    assert person_search("Zoé").hits == []


def test_panel_data_shows_everything_with_match_info(ana: Customer) -> None:
    data = panel_data(ana.person_id)

    assert [(c.gateway_id, c.match_method, c.match_confidence) for c in data.customers] == [
        ("cus_ana_eu", MatchMethod.NEW, 100),
        ("cus_ana_us", MatchMethod.EMAIL, 95),
    ]
    assert data.customers[0].account.dashboard_url == "https://dashboard.example/eu"
    # Newest first, across both accounts
    assert [c.gateway_id for c in data.charges.rows] == [
        "ch_cus_ana_eu_2",
        "ch_cus_ana_eu_1",
        "ch_cus_ana_us_0",  # same time as eu_0, mirrored later
        "ch_cus_ana_eu_0",
    ]
    assert not data.charges.more
    assert [r.gateway_id for r in data.refunds.rows] == ["re_cus_ana_eu_1"]
    assert [d.gateway_id for d in data.disputes.rows] == ["dp_cus_ana_eu_2"]
    assert len(data.subscriptions.rows) == 2
    assert len(data.invoices.rows) == 4
    assert data.cards == [] and data.tax_ids == []  # only on the full page
    assert data.actions == []


def test_panel_data_full_adds_cards(ana: Customer) -> None:
    data = panel_data(ana.person_id, full=True)
    assert sorted(pm.last4 for pm in data.cards) == ["1111", "2222"]


def test_panel_data_keeps_the_newest_and_says_there_are_more(eu: GatewayAccount) -> None:
    busy = add_customer(eu, "cus_busy", charges=15, email="busy@example.com")

    data = panel_data(busy.person_id, limit=10)

    assert len(data.charges.rows) == 10 and data.charges.more
    assert data.charges.rows[0].gateway_id == "ch_cus_busy_14"
    assert data.charges.rows[-1].gateway_id == "ch_cus_busy_5"


def test_panel_data_query_count_does_not_grow_with_history(eu: GatewayAccount) -> None:
    small = add_customer(eu, "cus_small", charges=1, email="small@example.com")
    big = add_customer(eu, "cus_big", charges=40, email="big@example.com")

    counts = []
    for person_id in (small.person_id, big.person_id):
        with CaptureQueriesContext(connection) as ctx:
            panel_data(person_id, documents=True)
        counts.append(len(ctx.captured_queries))

    assert counts[0] == counts[1]
    # PostgreSQL gets what hangs off the person, then what hangs off their gateway records,
    # in one request each; elsewhere each of the 13 queries is its own request. Then one
    # for the charges beside those shown that may pair with them as duplicates.
    assert counts[0] == (3 if connection.vendor == "postgresql" else 14)


def test_panel_data_for_a_person_with_two_records_and_documents_asked(
    ana: Customer,
) -> None:
    data = panel_data(ana.person_id, documents=True)

    assert [c.gateway_id for c in data.customers] == ["cus_ana_eu", "cus_ana_us"]
    assert {c.account.name for c in data.charges.rows} == {"EU store", "US SaaS"}
    assert all(c.customer.person_id == ana.person_id for c in data.charges.rows)
    assert data.documents == []
    assert data.charges.rows[0].gateway_created_at.tzinfo is not None


def test_panel_data_unknown_person(db: None) -> None:
    with pytest.raises(NotFound):
        panel_data(999_999)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (1900, "EUR", "en", "€19.00"),
        (1900, "EUR", "fr", "19,00\xa0€"),
        (1900, "JPY", "en", "¥1,900"),
        (1234, "KWD", "en", "KWD1.234"),
        (-550, "USD", "en", "-$5.50"),
        (None, "USD", "en", ""),
    ],
)
def test_money_display(amount: int | None, currency: str, locale: str, shown: str) -> None:
    assert money_display(amount, currency, locale=locale) == shown


def test_search_results_name_accounts_without_loading_their_secrets(ana: Customer) -> None:
    hit = person_search("ana.lopez@example.com").hits[0]

    for customer in hit.customers:
        # The account name is there; its credentials were neither read nor decrypted.
        assert customer.account.name
        assert {"credentials", "webhook_secret"} <= customer.account.get_deferred_fields()
