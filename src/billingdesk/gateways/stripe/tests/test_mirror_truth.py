"""The mirror tells the truth (issue 11): ties, every card, card details and invoice links on
charges, unreadable listings, quiet re-syncs, disputes, refusals on stale state, wording,
partial capture.

Server: localstripe wherever it can express the case (every saved card, charges without
``payment_method_details``, invoices that name their PaymentIntent but charges that name no
invoice, a missing disputes endpoint, a refund made behind the mirror's back). Otherwise the
HTTP fake, with payloads shaped like Stripe's, and why: two events of the same second in a
chosen order (localstripe's own webhooks cannot be ordered), a dispute (localstripe has no
disputes), a restricted key's 403 (localstripe accepts any key), Stripe's partial-capture
charge with ``amount_captured`` (localstripe has no such field).
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from django.core.management import CommandError, call_command
from django.test import Client

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.actions.rules import state_refusal
from billingdesk.actions.services import record_failure
from billingdesk.billing.models import Charge, Customer, Invoice, PaymentMethod, Refund
from billingdesk.billing.signals import mirror_changed
from billingdesk.core.errors import AmountTooLarge
from billingdesk.gateways.interface import ChargeStatus
from billingdesk.gateways.models import SyncRun
from billingdesk.gateways.registry import connector_for
from billingdesk.gateways.stripe import mapping
from billingdesk.gateways.stripe.connector import StripeConnector
from billingdesk.gateways.stripe.tests.conftest import make_account
from billingdesk.gateways.stripe.tests.helpers import (
    CARD,
    charge_id,
    customer_with_card,
    event_json,
    pay,
    post_event,
)
from billingdesk.gateways.stripe.tests.stripe_fake import StripeFake
from billingdesk.gateways.sync import (
    account_backfill,
    sync_run_execute,
    sync_run_skipped,
    sync_run_start,
)
from billingdesk.panel.selectors import person_search

SECOND = 1_760_000_000  # both events of a tie carry this `created`


def _invoice(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "in_tie",
        "object": "invoice",
        "customer": "cus_tie",
        "currency": "eur",
        "status": status,
        "total": 1500,
        "amount_due": 1500,
        "amount_paid": 1500 if status == "paid" else 0,
        "created": SECOND - 60,
        **extra,
    }


def _charge(*, refunded: bool) -> dict[str, Any]:
    refund = {
        "id": "re_tie",
        "object": "refund",
        "amount": 3000,
        "currency": "eur",
        "charge": "ch_tie",
        "status": "succeeded",
        "created": SECOND,
    }
    return {
        "id": "ch_tie",
        "object": "charge",
        "amount": 3000,
        "amount_captured": 3000,
        "amount_refunded": 3000 if refunded else 0,
        "captured": True,
        "refunded": refunded,
        "status": "succeeded",
        "currency": "eur",
        "customer": "cus_tie",
        "created": SECOND - 60,
        "disputed": False,
        "refunds": {"object": "list", "has_more": False, "data": [refund] if refunded else []},
    }


# --- 1. ties (fake payloads: the order of two same-second events must be chosen) ----------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "paid_first", [True, False], ids=["paid-then-finalized", "finalized-then-paid"]
)
def test_invoice_paid_and_finalized_in_the_same_second_leave_it_paid(
    client: Client, fake: StripeFake, drain_tasks: Callable[[], None], paid_first: bool
) -> None:
    account = make_account(fake.url)
    # The invoice names its PaymentIntent, so no re-fetch is needed (the fake has none).
    paid = event_json(
        "invoice.paid", _invoice("paid", payment_intent="pi_tie"), event_id="e_paid", created=SECOND
    )
    finalized = event_json(
        "invoice.finalized", _invoice("open"), event_id="e_final", created=SECOND
    )
    for body in [paid, finalized] if paid_first else [finalized, paid]:
        assert post_event(client, account, body).status_code == 200
        drain_tasks()  # one drain each: the second event meets the first one's row

    invoice = Invoice.objects.get(account=account, gateway_id="in_tie")
    assert (invoice.status, invoice.amount_paid) == ("paid", 1500)


@pytest.mark.django_db
@pytest.mark.parametrize("refunded_first", [True, False], ids=["refunded-first", "captured-first"])
def test_charge_refunded_and_captured_in_the_same_second_leave_it_refunded(
    client: Client, fake: StripeFake, drain_tasks: Callable[[], None], refunded_first: bool
) -> None:
    account = make_account(fake.url)
    refunded = event_json(
        "charge.refunded", _charge(refunded=True), event_id="e_ref", created=SECOND
    )
    captured = event_json(
        "charge.captured", _charge(refunded=False), event_id="e_cap", created=SECOND
    )
    for body in [refunded, captured] if refunded_first else [captured, refunded]:
        assert post_event(client, account, body).status_code == 200
        drain_tasks()

    charge = Charge.objects.get(account=account, gateway_id="ch_tie")
    assert (charge.status, charge.amount_refunded, charge.refundable) == ("refunded", 3000, 0)
    assert Refund.objects.get(account=account).charge == charge


# --- 2, 3, 4. every card, card on charges, invoice links (localstripe) ---------------------


def _second_card(seed: stripe.StripeClient, customer: stripe.Customer, number: str) -> str:
    pm = seed.v1.payment_methods.create(params={"type": "card", "card": {**CARD, "number": number}})
    seed.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    return pm.id


@pytest.mark.django_db
def test_backfill_mirrors_every_card_shows_it_on_charges_and_links_invoices(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    ada = customer_with_card(seed, email="ada@example.com")
    extra = [
        _second_card(seed, ada, "5555555555554444"),
        _second_card(seed, ada, "4000056655665556"),
    ]
    paid = pay(seed, ada, 4000)
    product = seed.v1.products.create(params={"name": "Gold"})
    seed.v1.plans.create(
        params={
            "id": "gold",
            "amount": 1500,
            "currency": "eur",
            "interval": "month",
            "product": product.id,
        }
    )
    seed.v1.subscriptions.create(params={"customer": ada.id, "items": [{"plan": "gold"}]})
    time.sleep(0.2)  # localstripe pays the subscription's first invoice asynchronously
    account = make_account(localstripe)

    run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    cards = {pm.gateway_id: pm for pm in PaymentMethod.objects.filter(account=account)}
    assert set(extra) < set(cards) and len(cards) == 3
    assert {pm.last4 for pm in cards.values()} == {"4242", "4444", "5556"}
    assert [pm.last4 for pm in cards.values() if pm.is_default] == ["4242"]
    assert all(pm.customer is not None for pm in cards.values())
    # localstripe's charges carry no payment_method_details: the card comes from the mirror.
    charge = Charge.objects.get(account=account, gateway_id=charge_id(paid))
    assert (charge.card_brand, charge.card_last4) == ("visa", "4242")
    assert Charge.objects.filter(account=account, card_last4="4242").count() == 2
    # Agents search by last 4: a saved card that is not the default finds its person too.
    person = Customer.objects.get(account=account, gateway_id=ada.id).person
    for last4 in ("4242", "4444", "5556"):
        assert person in [hit.person for hit in person_search(last4).hits], last4
    # The subscription's invoice names its charge; the charge names no invoice.
    invoice = Invoice.objects.get(account=account)
    linked = Charge.objects.get(account=account, gateway_id=invoice.charge_ref)
    assert linked.invoice == invoice and linked.raw.get("invoice") is None
    assert list(invoice.charges.all()) == [linked]


@pytest.mark.django_db
def test_invoice_naming_its_payment_links_the_charge_in_either_order(fake: StripeFake) -> None:
    """Stripe's basil+ shape: the invoice lists its payments; the charge names no invoice."""
    from billingdesk.billing.services import mirror_upsert

    invoice = _invoice(
        "paid",
        payments={
            "object": "list",
            "data": [
                {
                    "id": "inpay_1",
                    "object": "invoice_payment",
                    "status": "paid",
                    "is_default": True,
                    "payment": {"type": "payment_intent", "payment_intent": "pi_basil"},
                }
            ],
        },
    )
    charge = {**_charge(refunded=False), "payment_intent": "pi_basil"}
    for order in ([invoice, charge], [charge, invoice]):
        account = make_account(fake.url, name=f"order {order[0]['object']}")
        for obj in order:
            mirror_upsert(account=account, objects=mapping.object_bundle(obj, mapping.ts(SECOND)))  # type: ignore[arg-type]
        row = Charge.objects.get(account=account, gateway_id="ch_tie")
        assert row.invoice == Invoice.objects.get(account=account, gateway_id="in_tie")


@pytest.mark.django_db
def test_payment_method_events_keep_every_card_current(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    ada = customer_with_card(seed, email="ada@example.com")
    account = make_account(localstripe)
    account_backfill(account=account)
    new = _second_card(seed, ada, "5555555555554444")
    attached = seed.v1.payment_methods.retrieve(new).to_dict()

    post_event(client, account, event_json("payment_method.attached", attached, event_id="e1"))
    drain_tasks()
    row = PaymentMethod.objects.get(account=account, gateway_id=new)
    assert (row.last4, row.is_default, row.customer.gateway_id) == ("4444", False, ada.id)  # type: ignore[union-attr]

    detached = {**attached, "customer": None}
    post_event(client, account, event_json("payment_method.detached", detached, event_id="e2"))
    drain_tasks()
    row.refresh_from_db()
    assert row.deleted
    assert PaymentMethod.objects.filter(account=account, deleted=False).count() == 1


@pytest.mark.django_db
def test_a_new_default_card_moves_the_default_flag(
    client: Client, localstripe: str, seed: stripe.StripeClient, drain_tasks: Callable[[], None]
) -> None:
    ada = customer_with_card(seed, email="ada@example.com")
    first = ada.invoice_settings.default_payment_method  # type: ignore[union-attr]
    new = _second_card(seed, ada, "5555555555554444")
    account = make_account(localstripe)
    account_backfill(account=account)
    updated = seed.v1.customers.update(
        ada.id, params={"invoice_settings": {"default_payment_method": new}}
    ).to_dict()
    body = json.loads(event_json("customer.updated", updated, event_id="e_default"))
    body["data"]["previous_attributes"] = {"invoice_settings": {"default_payment_method": first}}

    post_event(client, account, json.dumps(body))
    drain_tasks()

    defaults = PaymentMethod.objects.filter(account=account, is_default=True)
    assert list(defaults.values_list("gateway_id", flat=True)) == [new]


# --- 5. one unreadable listing (localstripe: no disputes; fake: a restricted key's 403) ----


@pytest.mark.django_db
def test_a_missing_listing_is_skipped_with_its_reason_and_retried_next_run(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    customer_with_card(seed, email="ada@example.com")
    account = make_account(localstripe)  # straight at localstripe: /v1/disputes is a 404
    out = io.StringIO()

    call_command("sync", account.name, stdout=out, stderr=io.StringIO())

    run = SyncRun.objects.get(account=account)
    assert run.status == SyncRun.Status.DONE
    assert list(sync_run_skipped(run)) == ["dispute"]
    assert "no listing of disputes" in sync_run_skipped(run)["dispute"]
    assert "404" in sync_run_skipped(run)["dispute"]
    assert PaymentMethod.objects.filter(account=account).count() == 1  # the rest finished
    text = out.getvalue()
    assert "dispute: skipped (" in text and "skipped dispute" in text

    # The next run tries the kind again (here the endpoint exists by then).
    with StripeFake(upstream=localstripe) as fake:
        account.credentials = {**account.credentials, "api_base": fake.url}
        account.save()
        again = account_backfill(account=account)
        assert fake.calls("GET", "/v1/disputes") == 1
    assert again.pk != run.pk and sync_run_skipped(again) == {}


@pytest.mark.django_db
def test_a_forbidden_listing_is_skipped_and_shown_in_the_admin(
    localstripe: str, seed: stripe.StripeClient, admin_client: Client
) -> None:
    customer_with_card(seed, email="ada@example.com")
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)
        fake.fail_next("/v1/payment_methods", 403, times=10)

        run = account_backfill(account=account)

    assert run.status == SyncRun.Status.DONE
    assert "restricted key" in sync_run_skipped(run)["payment_method"]
    page = admin_client.get(f"/admin/gateways/syncrun/{run.pk}/change/")
    assert page.status_code == 200 and b"payment_method" in page.content
    listing = admin_client.get("/admin/gateways/syncrun/")
    assert b"payment_method" in listing.content


@pytest.mark.django_db
def test_a_customer_gone_mid_run_does_not_skip_everyones_cards(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    for i in range(3):
        customer_with_card(seed, email=f"c{i}@example.com")
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)
        fake.fail_next("/v1/payment_methods", 404)  # one customer deleted meanwhile

        run = account_backfill(account=account)

        assert fake.calls("GET", "/v1/payment_methods") == 3
    assert sync_run_skipped(run) == {}
    assert run.counts["payment_method"] == 2


# --- 6. quiet re-sync (localstripe) ----------------------------------------------------------


@pytest.fixture
def signals() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    mirror_changed.connect(record, dispatch_uid="test-quiet-resync")
    yield seen
    mirror_changed.disconnect(dispatch_uid="test-quiet-resync")


@pytest.mark.django_db
def test_a_resync_of_unchanged_data_writes_and_signals_nothing(
    localstripe: str, seed: stripe.StripeClient, signals: list[dict[str, Any]]
) -> None:
    ada = customer_with_card(
        seed, email="ada@example.com", tax_id_data=[{"type": "eu_vat", "value": "FR12345678901"}]
    )
    _second_card(seed, ada, "5555555555554444")
    partly = pay(seed, ada, 2500)
    seed.v1.refunds.create(params={"payment_intent": partly.id, "amount": 1000})
    pay(seed, ada, 7000, capture=False)
    seed.v1.payment_intents.create(params={"amount": 700, "currency": "eur", "customer": ada.id})
    account = make_account(localstripe)

    first_result = sync_run_execute(run=sync_run_start(account=account))
    assert first_result.created and signals
    versions = dict(Charge.objects.filter(account=account).values_list("gateway_id", "synced_at"))
    signals.clear()

    second = sync_run_execute(run=sync_run_start(account=account))

    assert (second.created, second.updated) == (0, 0), second
    assert second.unchanged > 0
    assert signals == []
    assert (
        dict(Charge.objects.filter(account=account).values_list("gateway_id", "synced_at"))
        == versions
    )


# --- 7. disputes and refusals on stale state -------------------------------------------------


@pytest.mark.django_db
def test_a_dispute_event_marks_the_charge_disputed_and_the_panel_offers_no_refund(
    client: Client, fake: StripeFake, drain_tasks: Callable[[], None]
) -> None:
    account = make_account(fake.url)
    post_event(
        client, account, event_json("charge.succeeded", _charge(refunded=False), event_id="e1")
    )
    drain_tasks()
    charge = Charge.objects.get(account=account, gateway_id="ch_tie")
    assert state_refusal(ActionKind.REFUND, charge) == ""
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": "ch_tie",
        "amount": 3000,
        "currency": "eur",
        "status": "needs_response",
        "reason": "fraudulent",
    }

    post_event(client, account, event_json("charge.dispute.created", dispute, event_id="e2"))
    drain_tasks()

    charge.refresh_from_db()
    assert charge.status == ChargeStatus.DISPUTED
    assert "disputed" in state_refusal(ActionKind.REFUND, charge)
    # A later copy of the charge that does not say so (an older API view) keeps it disputed.
    later = event_json(
        "charge.updated", _charge(refunded=False), event_id="e3", created=SECOND + 99
    )
    post_event(client, account, later)
    drain_tasks()
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.DISPUTED


@pytest.mark.django_db
def test_a_refund_refused_on_stale_state_refreshes_the_charge(
    localstripe: str, seed: stripe.StripeClient
) -> None:
    ada = customer_with_card(seed, email="ada@example.com")
    paid = pay(seed, ada, 4000)
    account = make_account(localstripe)
    account_backfill(account=account)
    charge = Charge.objects.get(account=account, gateway_id=charge_id(paid))
    assert charge.refundable == 4000
    # Refunded in Stripe's dashboard; no webhook reached billingdesk.
    seed.v1.refunds.create(params={"payment_intent": paid.id, "amount": 3000})

    with pytest.raises(AmountTooLarge) as refused:
        connector_for(account).refund_create(
            charge_id=charge.gateway_id, amount=2000, reason="", idempotency_key="stale-1"
        )
    # The connector hands the live state with the refusal; the actions service mirrors it.
    record_failure(
        ActionRequest(account=account, kind=ActionKind.REFUND),
        refused.value,
        actor=None,
        approver=None,
        ip=None,
    )

    charge.refresh_from_db()
    assert (charge.status, charge.refundable) == ("partially_refunded", 1000)
    assert Refund.objects.filter(account=account, charge=charge).count() == 1


# --- 8. wording and progress -----------------------------------------------------------------


@pytest.mark.django_db
def test_sync_counts_each_kind_as_itself(
    localstripe: str, seed: stripe.StripeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        cust = customer_with_card(
            seed,
            email=f"c{i}@example.com",
            tax_id_data=[{"type": "eu_vat", "value": f"FR1234567890{i}"}],
        )
        _second_card(seed, cust, "5555555555554444")
    with StripeFake(upstream=localstripe) as fake:
        account = make_account(fake.url)
        err = io.StringIO()
        out = io.StringIO()
        call_command("sync", account.name, stdout=out, stderr=err)

    lines = capsys.readouterr().err.splitlines()
    assert "  customer: 3" in lines  # not 3 customers + 3 tax ids + 3 cards
    assert "  payment_method: 6" in lines
    run = SyncRun.objects.get(account=account)
    assert (run.counts["customer"], run.counts["payment_method"], run.counts["tax_id"]) == (3, 6, 3)
    assert "customer 3, tax_id 3, payment_method 6." in out.getvalue()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db
def test_an_unreachable_gateway_is_could_not_reach_not_refused() -> None:
    account = make_account(f"http://127.0.0.1:{_closed_port()}")
    connector = connector_for(account)
    assert isinstance(connector, StripeConnector)
    connector.api.max_retries = 0
    with pytest.raises(CommandError) as failed:
        call_command("sync", account.name, stdout=io.StringIO(), stderr=io.StringIO())
    assert "could not reach Stripe" in str(failed.value)
    assert "Stripe refused" not in str(failed.value)

    with pytest.raises(CommandError) as adding:
        call_command(
            "gateway",
            "add",
            "stripe",
            "--name",
            "Unreachable",
            "--credential",
            "secret_key=sk_test_x",
            "--credential",
            f"api_base=http://127.0.0.1:{_closed_port()}",
            stdout=io.StringIO(),
        )
    assert "Could not reach Stripe" in str(adding.value)
    assert "refused these credentials" not in str(adding.value)


@pytest.mark.django_db
def test_the_sdk_request_logs_stay_below_warning(
    localstripe: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    connector_for(make_account(localstripe)).check_credentials()
    assert not [r for r in caplog.records if r.name.startswith("stripe")]


def test_authorised_charge_refusal_reads_well() -> None:
    charge = Charge(status=ChargeStatus.AUTHORIZED, amount=100, amount_captured=0)
    assert state_refusal(ActionKind.REFUND, charge) == (
        "This charge is authorized: it cannot be refunded."
    )


# --- 9. partial capture (fake: Stripe's charge shape has amount_captured) --------------------


def _partially_captured(**extra: Any) -> dict[str, Any]:
    """A 70.00 authorisation captured for 50.00, as Stripe answers it: the released 20.00 is
    counted in amount_refunded (https://docs.stripe.com/api/charges/capture)."""
    return {
        "id": "ch_partcap",
        "object": "charge",
        "amount": 7000,
        "amount_captured": 5000,
        "amount_refunded": 2000,
        "captured": True,
        "refunded": False,
        "status": "succeeded",
        "currency": "eur",
        "customer": "cus_pc",
        "disputed": False,
        "created": SECOND,
        "refunds": {"object": "list", "has_more": False, "data": []},
        **extra,
    }


@pytest.mark.parametrize(
    ("extra", "status", "refunded", "refundable"),
    [
        ({}, ChargeStatus.CAPTURED, 0, 5000),
        ({"amount_refunded": 3000}, ChargeStatus.PARTIALLY_REFUNDED, 1000, 4000),
        ({"amount_refunded": 7000, "refunded": True}, ChargeStatus.REFUNDED, 5000, 0),
    ],
    ids=["captured-50-of-70", "then-10-refunded", "then-all-refunded"],
)
def test_partial_capture_arithmetic_follows_stripe(
    extra: dict[str, Any], status: ChargeStatus, refunded: int, refundable: int
) -> None:
    gw = mapping.charge(_partially_captured(**extra), mapping.ts(SECOND))  # type: ignore[arg-type]
    assert (gw.status, gw.amount_captured, gw.amount_refunded) == (status, 5000, refunded)
    assert gw.amount_captured - gw.amount_refunded == refundable


@pytest.mark.django_db
def test_partial_capture_refund_limit_at_the_fake(fake: StripeFake) -> None:
    fake.add(_partially_captured())
    account = make_account(fake.url)
    connector = connector_for(account)

    with pytest.raises(AmountTooLarge) as refused:
        connector.refund_create(
            charge_id="ch_partcap", amount=6000, reason="", idempotency_key="pc-1"
        )

    assert "50.00" in refused.value.message
    assert fake.calls("POST", "/v1/refunds") == 0
    record_failure(  # the actions service mirrors the live state handed with the refusal
        ActionRequest(account=account, kind=ActionKind.REFUND),
        refused.value,
        actor=None,
        approver=None,
        ip=None,
    )
    row = Charge.objects.get(account=account, gateway_id="ch_partcap")
    assert (row.status, row.amount_refunded, row.refundable) == ("captured", 0, 5000)
