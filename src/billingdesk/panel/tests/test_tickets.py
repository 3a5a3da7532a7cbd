"""The panel's answers to the five tickets: what a charge was for, probable duplicates, tax
ids, one-confirm actions, the result in view, and a panel that notices changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client

from billingdesk.actions.models import AuditEntry
from billingdesk.billing.models import Charge, Refund, TaxId
from billingdesk.billing.services import mirror_upsert
from billingdesk.documents.models import LegalEntity
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.engine import SandboxEngine
from billingdesk.gateways.sync import account_backfill
from billingdesk.panel.selectors import charges_older, panel_data

from .factories import T0, Shop, add_customer

HX = {"HTTP_HX_REQUEST": "true"}


def _key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _charged_twice(shop: Shop) -> Charge:
    """The shop's customer paid 50.00 a second time, seconds after the first."""
    engine = SandboxEngine(shop.account, webhooks=False)
    again = engine.charge_create(
        customer_id=shop.customer.gateway_id, amount=5000, currency="EUR", description="Annual"
    )
    account_backfill(account=shop.account)
    return Charge.objects.get(account=shop.account, gateway_id=again.object_id)


# --- "you charged me twice" --------------------------------------------------------------


def test_two_charges_of_one_amount_and_card_close_together_are_flagged(shop: Shop) -> None:
    twin = _charged_twice(shop)

    rows = {c.pk: c for c in panel_data(shop.customer.person_id).charges.rows}

    assert rows[twin.pk].duplicate_of.pk == shop.charge.pk  # type: ignore[attr-defined]
    assert rows[shop.charge.pk].duplicate_of.pk == twin.pk  # type: ignore[attr-defined]
    assert rows[twin.pk].duplicate_refundable  # type: ignore[attr-defined]
    assert not rows[shop.charge.pk].duplicate_refundable  # type: ignore[attr-defined]
    assert rows[shop.hold.pk].duplicate_of is None  # type: ignore[attr-defined]


def test_same_amount_far_apart_or_on_another_card_is_no_duplicate(eu: GatewayAccount) -> None:
    add_customer(eu, "cus_monthly", charges=3, email="m@example.com")  # a day apart each
    customer = add_customer(eu, "cus_two_cards", email="t@example.com")
    at = T0 + timedelta(days=40)
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwCharge(
                id=f"ch_card_{last4}", updated=at, created=at + timedelta(seconds=n),
                customer_id="cus_two_cards", amount=1000, currency="EUR",
                amount_captured=1000, status=gw.ChargeStatus.CAPTURED, card_brand="visa",
                card_last4=last4,
            )
            for n, last4 in enumerate(("1111", "2222"))
        ],
    )  # fmt: skip

    for person_id in (
        customer.person_id,
        Charge.objects.filter(gateway_id="ch_cus_monthly_0").get().customer.person_id,  # type: ignore[union-attr]
    ):
        rows = panel_data(person_id).charges.rows
        assert rows and all(c.duplicate_of is None for c in rows)  # type: ignore[attr-defined]


def _pair_below_the_page(eu: GatewayAccount) -> tuple[int, Charge, Charge]:
    """A customer charged 30.00 twice a minute apart, then nine daily charges of 19.00:
    the later charge of the pair is the panel's oldest row, the earlier one is on the next
    page."""
    customer = add_customer(eu, "cus_pair", charges=9, email="pair@example.com")
    before = T0 - timedelta(days=5)
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwCharge(
                id=f"ch_pair_{n}", updated=before, created=before + timedelta(minutes=n),
                customer_id="cus_pair", amount=3000, currency="EUR", amount_captured=3000,
                status=gw.ChargeStatus.CAPTURED, payment_method_id="pm_cus_pair",
                card_brand="visa", card_last4="4242",
            )
            for n in (0, 1)
        ],
    )  # fmt: skip
    assert customer.person_id is not None
    return (
        customer.person_id,
        Charge.objects.get(gateway_id="ch_pair_0"),
        Charge.objects.get(gateway_id="ch_pair_1"),
    )


def test_a_duplicate_is_found_in_the_whole_history_not_only_the_page(
    eu: GatewayAccount,
) -> None:
    person_id, earlier, later = _pair_below_the_page(eu)
    first = panel_data(person_id)
    rows = {c.pk: c for c in first.charges.rows}
    assert earlier.pk not in rows and later.pk in rows and first.charges.more

    assert rows[later.pk].duplicate_of.pk == earlier.pk  # type: ignore[attr-defined]
    assert rows[later.pk].duplicate_refundable  # type: ignore[attr-defined]
    assert sum(getattr(c, "duplicate_of", None) is not None for c in rows.values()) == 1

    older = {c.pk: c for c in charges_older(person_id, before=later.pk).rows}
    assert older[earlier.pk].duplicate_of.pk == later.pk  # type: ignore[attr-defined]
    assert not older[earlier.pk].duplicate_refundable  # type: ignore[attr-defined]


def test_the_whole_history_is_read_in_one_query(eu: GatewayAccount) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billingdesk.panel.selectors.duplicates import duplicates_mark

    person_id, earlier, later = _pair_below_the_page(eu)
    rows = list(Charge.objects.filter(customer__person_id=person_id).exclude(pk=earlier.pk))

    with CaptureQueriesContext(connection) as queries:
        duplicates_mark(rows)

    assert len(queries.captured_queries) == 1
    marked = [c for c in rows if getattr(c, "duplicate_of", None) is not None]
    assert [(c.pk, c.duplicate_of.pk) for c in marked] == [(later.pk, earlier.pk)]  # type: ignore[attr-defined]


def test_the_panel_badges_a_charge_whose_twin_is_on_the_next_page(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    person_id, earlier, later = _pair_below_the_page(eu)

    body = client_as("agent").get(f"/panel/person/{person_id}/").content.decode()

    assert body.count("probable duplicate</span>") == 1
    assert f'data-duplicate-of="{earlier.gateway_id}"' in body
    button = re.search(r'<button[^>]*data-action="refund_duplicate"[^>]*>', body)
    assert button and f"/refund/charge/{later.pk}/" in button.group(0)


def test_panel_marks_both_rows_and_offers_refund_duplicate_with_its_reason(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    twin = _charged_twice(shop)
    client = client_as("agent")

    body = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()

    assert body.count("probable duplicate</span>") == 2
    assert body.count('data-action="refund_duplicate"') == 1
    button = re.search(r'<button[^>]*data-action="refund_duplicate"[^>]*>', body)
    assert button and f"/refund/charge/{twin.pk}/" in button.group(0)
    assert "reason=duplicate" in button.group(0)

    step = client.get(f"/console/actions/refund/charge/{twin.pk}/?reason=duplicate", **HX)
    html = step.content.decode()
    assert 'data-step="confirm"' in html and 'value="50.00"' in html
    assert re.search(r'<option value="duplicate"\s+selected>', html)
    # One click: the reason code alone suffices, the amount is all of it.
    done = client.post(
        f"/console/actions/refund/charge/{twin.pk}/confirm/",
        {
            "key": _key(html),
            "amount": "50.00",
            "previewed_amount": "50.00",
            "reason_code": "duplicate",
            "back": f"/panel/person/{shop.customer.person_id}/",
        },
        **HX,
    )
    assert done["HX-Redirect"] == (
        f"/panel/person/{shop.customer.person_id}/?focus=charge-{twin.pk}"
    )
    assert Refund.objects.get().charge_id == twin.pk


def test_a_changed_amount_is_previewed_before_anything_is_refunded(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    html = client.get(f"/console/actions/refund/charge/{shop.charge.pk}/", **HX).content.decode()

    again = client.post(
        f"/console/actions/refund/charge/{shop.charge.pk}/confirm/",
        {"key": _key(html), "amount": "20", "previewed_amount": "50.00", "reason_code": "goodwill"},
        **HX,
    ).content.decode()

    assert not Refund.objects.exists()
    assert "check its effect, then confirm again" in again
    assert "Refund €20.00" in again and 'name="previewed_amount" value="20"' in again


# --- "why was I charged?" ----------------------------------------------------------------


def test_charge_row_says_plan_period_and_invoice(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    customer = add_customer(eu, "cus_pro", charges=1, email="pro@example.com")
    mirror_upsert(
        account=eu,
        objects=[
            gw.GwInvoice(
                id="in_cus_pro_0", updated=T0 + timedelta(hours=1), created=T0,
                customer_id="cus_pro", subscription_id="sub_cus_pro",
                status=gw.InvoiceStatus.PAID, currency="EUR", total=1900, amount_paid=1900,
                number="INV-2026-0042", period_start=T0, period_end=T0 + timedelta(days=31),
                hosted_url="https://pay.example/in_cus_pro_0",
            )
        ],
    )  # fmt: skip

    body = client_as().get(f"/panel/person/{customer.person_id}/").content.decode()
    row = re.search(r'<li data-charge="ch_cus_pro_0".*?</li>', body, re.S)

    assert row, body
    paid_for = re.search(r"data-paid-for>(.*?)</div>", row.group(0), re.S)
    assert paid_for
    text = re.sub(r"<[^>]+>", "", paid_for.group(1))
    assert "for Pro" in text and "Mar 1, 2026" in text and "Apr 1, 2026" in text
    assert "INV-2026-0042" in text
    assert 'href="https://pay.example/in_cus_pro_0"' in paid_for.group(1)


def test_older_charges_and_search_within_the_person(
    eu: GatewayAccount, client_as: Callable[..., Client]
) -> None:
    busy = add_customer(eu, "cus_busy", charges=14, email="busy@example.com")
    person = busy.person_id
    assert person is not None
    first = panel_data(person).charges
    assert first.more and first.rows[-1].gateway_id == "ch_cus_busy_4"

    older = charges_older(person, before=first.rows[-1].pk)
    assert [c.gateway_id for c in older.rows] == [f"ch_cus_busy_{n}" for n in (3, 2, 1, 0)]
    assert not older.more
    assert [c.gateway_id for c in charges_older(person, text="ORD-cus_busy-7").rows] == [
        "ch_cus_busy_7"
    ]
    assert [c.gateway_id for c in charges_older(person, text="INV-cus_busy-12").rows] == [
        "ch_cus_busy_12"
    ]
    assert len(charges_older(person, text="19.00").rows) == 10  # every charge is 19.00

    client = client_as()
    page = client.get(f"/panel/person/{person}/").content.decode()
    assert f"?before={first.rows[-1].pk}" in page and "Older charges" in page
    rows = client.get(f"/panel/person/{person}/charges/?before={first.rows[-1].pk}").content
    assert rows.decode().count("data-charge=") == 4
    none = client.get(f"/panel/person/{person}/charges/?q=nothing-like-this").content.decode()
    assert "No matching charges." in none


@pytest.mark.parametrize("query", ["before=abc", "before=-1", "before=1" + "0" * 30])
def test_older_charges_refuse_what_is_no_charge_id(
    shop: Shop, client_as: Callable[..., Client], query: str
) -> None:
    response = client_as().get(f"/panel/person/{shop.customer.person_id}/charges/?{query}")
    assert response.status_code == 400


def test_older_charges_of_nobody_are_404(db: None, client_as: Callable[..., Client]) -> None:
    assert client_as().get("/panel/person/999999/charges/").status_code == 404


# --- "add my VAT number" -----------------------------------------------------------------


def test_tax_id_form_preselects_the_type_and_warns_about_our_own_number(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    LegalEntity.objects.create(
        name="Acme France", address_line1="1 rue de Rivoli", city="Paris", country="FR",
        vat_number="FR 40 303 265 045",
    )  # fmt: skip
    client = client_as("agent")
    url = f"/console/actions/add_tax_id/customer/{shop.customer.pk}/"

    form = client.get(url, **HX).content.decode()
    assert re.search(r'<option value="eu_vat"\s+selected>', form)  # Ana is in France

    own = client.post(
        url + "review/", {"key": _key(form), "tax_type": "eu_vat", "value": "FR40303265045"}, **HX
    ).content.decode()
    assert "This is the VAT number of Acme France, the seller" in own
    theirs = client.post(
        url + "review/", {"key": _key(form), "tax_type": "eu_vat", "value": "FR83404833048"}, **HX
    ).content.decode()
    assert "the seller" not in theirs


def test_tax_id_added_shows_in_the_panel_with_its_number_in_the_audit_line(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    url = f"/console/actions/add_tax_id/customer/{shop.customer.pk}/"
    key = _key(client.get(url, **HX).content.decode())
    data = {"key": key, "tax_type": "eu_vat", "value": "FR83404833048"}
    client.post(url + "review/", data, **HX)
    done = client.post(url + "confirm/", {**data, "reason_code": "requested_by_customer"}, **HX)
    assert done.status_code == 200 and not done.content

    assert TaxId.objects.filter(customer=shop.customer, value="FR83404833048").exists()
    assert AuditEntry.objects.filter(action="add_tax_id", result="succeeded").exists()
    body = client.get(f"/panel/person/{shop.customer.person_id}/").content.decode()
    tax_ids = re.search(r'<section class="card" id="tax-ids">.*?</section>', body, re.S)
    assert tax_ids and "FR83404833048" in tax_ids.group(0)
    assert "EU VAT number FR83404833048 added" in body


# --- the panel updates itself ------------------------------------------------------------


def test_panel_digest_is_stable_until_what_it_shows_changes(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    client = client_as("agent")
    person = shop.customer.person_id
    page = client.get(f"/panel/person/{person}/").content.decode()
    poll = re.search(r'data-freshness hx-get="([^"]+)"', page)
    assert poll
    url = poll.group(1).replace("&amp;", "&")

    assert client.get(url).status_code == 204
    assert client.get(url).status_code == 204

    # A webhook mirrors a refund made in the gateway's dashboard.
    mirror_upsert(
        account=shop.account,
        objects=[
            gw.GwRefund(
                id="re_dashboard", updated=T0, created=T0, charge_id=shop.charge.gateway_id,
                amount=700, currency="EUR", status=gw.RefundStatus.SUCCEEDED,
            )
        ],
    )  # fmt: skip
    changed = client.get(url)
    assert changed.status_code == 200 and changed["HX-Refresh"] == "true"
