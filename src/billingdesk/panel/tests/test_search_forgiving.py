"""Search that forgives: parts of names in any order, without accents or case, national phone
numbers, parts of e-mails; counted, paged and filtered by account; always through an index."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billingdesk.billing.models import Customer, CustomerToken
from billingdesk.billing.services import mirror_upsert
from billingdesk.core.errors import InvalidRequest
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.panel.selectors import MAX_MATCHES, person_search

from .factories import T0, add_customer


def _customers(account: GatewayAccount, rows: list[dict[str, str]]) -> None:
    """Bare customers, in one mirror batch (the way a backfill page arrives)."""
    mirror_upsert(
        account=account,
        objects=[gw.GwCustomer(id=row.pop("id"), updated=T0, created=T0, **row) for row in rows],
    )


@pytest.fixture
def people(eu: GatewayAccount, us: GatewayAccount) -> dict[str, int]:
    nathan = add_customer(
        eu, "cus_nathan", email="n.cote@example.org", name="Nathan Côté",
        phone="+33 6 08 38 63 79", country="FR",
    )  # fmt: skip
    theo = add_customer(us, "cus_theo", email="theo.simon@acme.com", name="Théo Simon")
    _customers(eu, [{"id": "cus_other", "email": "zed@example.net", "name": "Zed Nobody"}])
    _customers(us, [{"id": "cus_mia", "email": "mia84@example.net", "name": "Mia Roux"}])
    assert nathan.person_id and theo.person_id
    mia = Customer.objects.get(gateway_id="cus_mia").person_id
    assert mia
    return {"nathan": nathan.person_id, "theo": theo.person_id, "mia": mia}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("nathan cote", "nathan"),
        ("cote nathan", "nathan"),
        ("Côté", "nathan"),
        ("COTE", "nathan"),
        ("  nath   cô ", "nathan"),
        ("Simon", "theo"),
        ("theo", "theo"),
        ("théo simon", "theo"),
        ("theo.simon", "theo"),
        ("theo_simon", "theo"),
        ("theo.simon@acme", "theo"),
        ("@acme.com", "theo"),
        ("@acme", "theo"),
        ("n.cote@", "nathan"),
        ("mia84", "mia"),
        ("mia84@exa", "mia"),
        ("0608386379", "nathan"),
        ("06 08 38 63 79", "nathan"),
        ("06.08.38.63.79", "nathan"),
    ],
)
def test_search_forgives(people: dict[str, int], query: str, who: str) -> None:
    result = person_search(query)

    assert [hit.person.pk for hit in result.hits] == [people[who]]
    assert result.total == 1
    assert not result.more


@pytest.mark.parametrize("query", ["nathan simon x", "Zoé", "@nowhere.example", "0699999999"])
def test_search_does_not_invent_matches(people: dict[str, int], query: str) -> None:
    hits = person_search(query).hits
    # "nathan simon x": nobody has all three words; those with some of them rank below.
    assert all(hit.confidence < 25 for hit in hits)
    if query != "nathan simon x":
        assert hits == []


def test_persons_with_every_word_come_first(people: dict[str, int], eu: GatewayAccount) -> None:
    # Nobody is called "Simon Nathan": those with some of the words are offered.
    some = person_search("simon nathan").hits
    assert {hit.person.pk for hit in some} == {people["nathan"], people["theo"]}
    assert {hit.matched_by for hit in some} == {"some words of the name"}

    _customers(eu, [{"id": "cus_ns", "email": "ns@example.com", "name": "Nathan Simon"}])
    both = Customer.objects.get(gateway_id="cus_ns").person_id

    hits = person_search("simon nathan").hits

    assert [(hit.person.pk, hit.matched_by) for hit in hits] == [(both, "name words")]


def test_national_phone_needs_the_region_of_the_customer(eu: GatewayAccount) -> None:
    # A German customer whose number reads like a French national one: not found as French.
    _customers(
        eu, [{"id": "cus_de", "name": "Hans", "phone": "+33 6 08 38 63 79", "country": "DE"}]
    )
    assert person_search("0608386379").hits == []
    assert [h.matched_by for h in person_search("+33608386379").hits] == ["phone"]


def test_search_counts_and_pages(eu: GatewayAccount) -> None:
    _customers(
        eu,
        [
            {"id": f"cus_d{n}", "email": f"d{n}@example.com", "name": f"Dupont {n}"}
            for n in range(28)
        ],
    )

    first = person_search("dupont")
    second = person_search("dupont", page=2)
    beyond = person_search("dupont", page=3)

    assert (first.total, first.more, first.pages) == (28, False, 2)
    assert len(first.hits) == 20 and len(second.hits) == 8 and beyond.hits == []
    assert not {h.person.pk for h in first.hits} & {h.person.pk for h in second.hits}
    with pytest.raises(InvalidRequest):
        person_search("dupont", page=0)


def test_search_says_when_there_are_more_than_it_counts(eu: GatewayAccount) -> None:
    _customers(eu, [{"id": f"cus_m{n}", "name": f"Martin {n}"} for n in range(MAX_MATCHES + 5)])

    result = person_search("martin")

    assert result.total == MAX_MATCHES and result.more
    assert result.pages == MAX_MATCHES // 20


def test_search_filters_by_account(people: dict[str, int], eu: GatewayAccount) -> None:
    us = GatewayAccount.objects.get(name="US SaaS")
    assert [h.person.pk for h in person_search("@acme.com", account_id=str(us.pk)).hits] == [
        people["theo"]
    ]
    assert person_search("@acme.com", account_id=str(eu.pk)).hits == []
    # Other kinds of lookup are filtered too.
    assert person_search("+33608386379", account_id=str(us.pk)).hits == []
    with pytest.raises(InvalidRequest, match="not a gateway account"):
        person_search("theo", account_id="nope")


def test_tokens_follow_a_renamed_customer(people: dict[str, int], eu: GatewayAccount) -> None:
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwCustomer(
                id="cus_nathan", updated=T0 + timedelta(days=1), created=T0,
                email="n.cote@example.org", name="Nathalie Côté", phone="+33 6 08 38 63 79",
                country="FR",
            )
        ],
    )  # fmt: skip

    assert person_search("nathalie").hits[0].person.pk == people["nathan"]
    assert person_search("nathan").hits == []


def test_the_migration_fills_tokens_of_existing_customers(people: dict[str, int]) -> None:
    migration = importlib.import_module("billingdesk.billing.migrations.0003_search_name_tokens")
    CustomerToken.objects.all().delete()
    assert person_search("cote").hits == []

    migration.fill_tokens(django_apps, None)

    assert [h.person.pk for h in person_search("cote").hits] == [people["nathan"]]


def test_name_search_runs_a_fixed_number_of_indexed_queries(eu: GatewayAccount) -> None:
    _customers(eu, [{"id": "cus_one", "name": "Lonely Person"}])
    with CaptureQueriesContext(connection) as few:
        assert len(person_search("lonely person").hits) == 1
    _customers(eu, [{"id": f"cus_l{n}", "name": f"Lonely Person {n}"} for n in range(30)])
    with CaptureQueriesContext(connection) as many:
        assert len(person_search("lonely person").hits) == 20

    assert len(many.captured_queries) == len(few.captured_queries) <= 8
    token_queries = [q["sql"] for q in many.captured_queries if "billing_customertoken" in q["sql"]]
    assert token_queries
    for sql in token_queries:
        plan = _plan(sql)
        assert "customer_token_idx" in plan, plan


def _plan(sql: str) -> str:
    """The database's plan for a captured query (its parameters are inlined in the capture)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tables this small would be scanned anyway; the question is whether the index
            # can serve the query at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        assert not re.search(r"SCAN billing_customertoken\b(?! USING)", plan), plan
        return plan


def test_console_shows_count_pages_and_account_filter(
    client_as: object, eu: GatewayAccount
) -> None:
    _customers(eu, [{"id": f"cus_p{n}", "name": f"Petit {n}"} for n in range(28)])
    client: Client = client_as()  # type: ignore[operator]

    page1 = client.get("/console/", {"q": "petit"})
    page2 = client.get("/console/", {"q": "petit", "page": "2", "account": str(eu.pk)})
    bad = client.get("/console/", {"q": "petit", "page": "x"})
    bad_account = client.get("/console/", {"q": "petit", "account": "nope"})

    assert page1.status_code == 200
    body = page1.content.decode()
    assert "28 persons found" in body and "page 1 of 2" in body
    assert 'rel="next"' in body and "page=2" in body
    assert f'<option value="{eu.pk}">EU store</option>' in body
    body2 = page2.content.decode()
    assert page2.status_code == 200 and "page 2 of 2" in body2 and 'rel="prev"' in body2
    assert f'<option value="{eu.pk}" selected>' in body2
    assert bad.status_code == 400 and bad_account.status_code == 400


@pytest.mark.parametrize("read", [2, 2000])
def test_common_words_find_the_same_persons_as_rare_ones(
    eu: GatewayAccount, us: GatewayAccount, monkeypatch: pytest.MonkeyPatch, read: int
) -> None:
    # With ``read`` = 2 every word here is "common" (more customers than are read at once):
    # the search then takes the EXISTS path, and must find exactly what the sets find.
    from billingdesk.billing import name_tokens

    monkeypatch.setattr(name_tokens, "WORD_CUSTOMERS_READ", read)
    _customers(eu, [{"id": f"cus_al{n}", "name": f"Ana López {n}"} for n in range(6)])
    _customers(us, [{"id": f"cus_alu{n}", "name": f"Ana Lopez {n + 10}"} for n in range(3)])
    _customers(eu, [{"id": f"cus_ao{n}", "name": f"Ana Other {n}"} for n in range(4)])
    _customers(eu, [{"id": f"cus_bl{n}", "name": f"Bo Lopez {n}"} for n in range(4)])

    def names(query: str, **kwargs: object) -> list[str]:
        return sorted(h.matched_on for h in person_search(query, limit=50, **kwargs).hits)  # type: ignore[arg-type]

    assert names("lopez ana") == sorted(
        [f"Ana López {n}" for n in range(6)] + [f"Ana Lopez {n + 10}" for n in range(3)]
    )
    assert names("ANA lop", account_id=str(us.pk)) == [f"Ana Lopez {n + 10}" for n in range(3)]
    assert names("lopez 3") == ["Ana López 3", "Bo Lopez 3"]
    assert names("other ana 2") == ["Ana Other 2"]
    assert person_search("lopez ana", limit=4).total == 9
