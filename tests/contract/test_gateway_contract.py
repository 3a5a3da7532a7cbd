"""The gateway connector contract: what every connector does the same way.

Each case runs for every connector through its harness (``conftest.GATEWAY_HARNESSES``).
Webhooks go through the real intake (``webhook_receive``) and the real drain task, backfills
through the real sync engine, actions through the connector against its gateway (or the
gateway's local stand-in). A connector is "done" when this file passes for it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from billingdesk.billing.models import Customer
from billingdesk.core.errors import (
    AmountTooLarge,
    AuthenticationFailed,
    CapabilityMissing,
    CardDeclined,
    GatewayUnavailable,
    OperationalError,
    RateLimited,
    UserFacingError,
)
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount, SyncRun, WebhookEvent
from billingdesk.gateways.registry import (
    ACTION_METHODS,
    capability_mismatches,
    connector_class,
    implemented_actions,
)
from billingdesk.gateways.sync import account_backfill, sync_run_execute, sync_run_start
from billingdesk.gateways.webhooks import webhook_account_drain, webhook_receive
from tests.contract.harness import GatewayHarness

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def signed(
    harness: GatewayHarness, account: GatewayAccount, body: bytes, **sign: object
) -> tuple[dict[str, str], bytes]:
    """The headers and body of a signed delivery of ``body``. Most gateways sign in a header
    (``harness.sign``); one that signs inside the body (Braintree's form fields) gives its
    harness a ``signed_delivery`` that returns both."""
    both = getattr(harness, "signed_delivery", None)
    if both is not None:
        return both(account, body, **sign)  # type: ignore[no-any-return]
    return harness.sign(account, body, **sign), body  # type: ignore[arg-type]


def tampered(harness: GatewayHarness, wire: bytes) -> bytes:
    """The delivered body with its content changed (and its signature kept)."""
    tamper = getattr(harness, "tamper", None)
    if tamper is not None:
        return tamper(wire)  # type: ignore[no-any-return]
    return wire.replace(b"v1@example.com", b"v9@example.com")


def deliver(harness: GatewayHarness, account: GatewayAccount, body: bytes, **sign: object) -> int:
    headers, wire = signed(harness, account, body, **sign)
    return webhook_receive(account=account, headers=headers, body=wire).status_code


def drain(account: GatewayAccount) -> None:
    """One drain of the account's pending events, as the worker runs it."""
    webhook_account_drain.call(str(account.pk))


# --- declared capabilities == implemented methods -----------------------------------------
def test_declared_capabilities_are_exactly_the_implemented_actions(
    harness: GatewayHarness,
) -> None:
    cls = connector_class(harness.kind)
    assert capability_mismatches(cls) == []


def test_an_undeclared_action_is_refused_as_a_missing_capability(harness: GatewayHarness) -> None:
    account = harness.account()
    connector = harness.connector(account)
    for capability, names in ACTION_METHODS.items():
        if capability in connector.capabilities or set(names) & implemented_actions(
            type(connector)
        ):
            continue
        with pytest.raises(CapabilityMissing):
            getattr(connector, names[-1])(**_dummy_arguments(names[-1]))


def _dummy_arguments(name: str) -> dict[str, object]:
    base: dict[str, object] = {"idempotency_key": "k1"}
    return {
        "refund_create": {**base, "charge_id": "ch", "amount": None, "reason": ""},
        "charge_authorize": {
            **base,
            "customer_id": "c",
            "amount": 1,
            "currency": "EUR",
            "description": "",
        },
        "charge_capture": {**base, "charge_id": "ch", "amount": None},
        "charge_void": {**base, "charge_id": "ch"},
        "subscription_cancel": {**base, "subscription_id": "s", "at_period_end": False},
        "subscription_create": {**base, "customer_id": "c", "plan": "p"},
        "invoice_send": {**base, "invoice_id": "i"},
        "coupon_apply": {**base, "coupon_id": "co"},
        "tax_id_add": {**base, "customer_id": "c", "tax_type": "eu_vat", "value": "x"},
        "payment_request_create": {
            **base,
            "customer_id": "c",
            "amount": 1,
            "currency": "EUR",
            "description": "",
        },
        "card_update_start": {"customer_id": "c", "return_url": ""},
        "object_fetch": {"kind": gw.ObjectKind.CUSTOMER, "object_id": "c"},
        "dispute_evidence_submit": {**base, "dispute_id": "d", "evidence": {}},
        "dispute_accept": {**base, "dispute_id": "d"},
        "subscription_pause": {**base, "subscription_id": "s"},
        "subscription_resume": {**base, "subscription_id": "s"},
        "invoice_void": {**base, "invoice_id": "i"},
        "subscription_reactivate": {**base, "subscription_id": "s"},
        "subscription_terminate": {**base, "subscription_id": "s", "refund": "none"},
    }[name]


# --- backfill --------------------------------------------------------------------------------
def test_backfill_walks_every_page_and_resumes_where_it_was_interrupted(
    harness: GatewayHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = harness.account()
    if gw.Capability.BACKFILL not in connector_class(harness.kind).capabilities:
        with pytest.raises(CapabilityMissing):
            sync_run_start(account=account)
        return
    harness.set_page_size(monkeypatch, 2)
    emails = [f"person{n}@example.com" for n in range(5)]
    harness.seed_customers(account, emails)

    uninterrupted = account_backfill(account=account).pages
    SyncRun.objects.filter(account=account).delete()
    Customer.objects.filter(account=account).delete()

    # The process dies after two pages: the run is left as it was, with its cursor.
    run = sync_run_start(account=account)
    sync_run_execute(run=run, max_pages=2)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING and run.pages == 2
    assert Customer.objects.filter(account=account).count() == 4

    resumed = account_backfill(account=account)

    assert resumed.pk == run.pk and resumed.status == SyncRun.Status.DONE
    mirrored = sorted(Customer.objects.filter(account=account).values_list("email", flat=True))
    assert mirrored == emails  # every customer, once
    # It went on from its cursor: interrupted and resumed, it read exactly the pages an
    # uninterrupted backfill of the same history reads.
    assert resumed.pages == uninterrupted


# --- webhook signatures -------------------------------------------------------------------
def _receives_webhooks(harness: GatewayHarness, account: GatewayAccount) -> bool:
    """Whether the connector takes webhooks. One that does not (the custom gateway: its
    records are pushed through the API) must refuse every delivery, kept as rejected."""
    if gw.Capability.WEBHOOKS in connector_class(harness.kind).capabilities:
        return True
    body = b'{"id": "evt_pushed_only", "type": "customer.updated", "data": {}}'
    assert webhook_receive(account=account, headers={}, body=body).status_code == 400
    assert WebhookEvent.objects.get(account=account).status == WebhookEvent.Status.REJECTED
    WebhookEvent.objects.filter(account=account).delete()
    return False


def _customer_body(harness: GatewayHarness, account: GatewayAccount, n: int = 1) -> bytes:
    return harness.customer_event(
        account,
        event_id=f"evt_sig_{n}",
        customer_id="cus_sig",
        email=f"v{n}@example.com",
        at=T0 + timedelta(minutes=n),
    )


def test_a_validly_signed_event_is_accepted_and_applied(harness: GatewayHarness) -> None:
    account = harness.account()
    if not _receives_webhooks(harness, account):
        return
    assert deliver(harness, account, _customer_body(harness, account)) == 200
    drain(account)
    assert Customer.objects.get(account=account, gateway_id="cus_sig").email == "v1@example.com"
    assert WebhookEvent.objects.get(account=account).status == WebhookEvent.Status.PROCESSED


@pytest.mark.parametrize("case", ["tampered", "stale", "future", "wrong_key", "unsigned"])
def test_a_badly_signed_event_is_rejected_and_kept_for_investigation(
    harness: GatewayHarness, case: str
) -> None:
    account = harness.account()
    body = _customer_body(harness, account)
    now = int(time.time())
    if case in ("stale", "future") and not getattr(harness, "signs_time", True):
        _a_replay_is_applied_once(
            harness, account, body, at=now - 3600 if case == "stale" else now + 3600
        )
        return
    if case == "tampered":
        headers, body = signed(harness, account, body)
        body = tampered(harness, body)
    elif case == "stale":
        headers, body = signed(harness, account, body, at=now - 3600)
    elif case == "future":
        headers, body = signed(harness, account, body, at=now + 3600)
    elif case == "wrong_key":
        headers, body = signed(harness, account, body, secret="whsec_not_this_accounts_secret")
    else:
        headers = {}

    result = webhook_receive(account=account, headers=headers, body=body)

    assert result.status_code == 400
    event = WebhookEvent.objects.get(account=account)
    assert event.status == WebhookEvent.Status.REJECTED and event.error
    drain(account)
    assert not Customer.objects.filter(account=account).exists()


def _a_replay_is_applied_once(
    harness: GatewayHarness, account: GatewayAccount, body: bytes, *, at: int
) -> None:
    """A gateway that signs no time (WooCommerce signs the body only) cannot tell a stale
    delivery from its signature: a replay of a signed delivery, whenever it comes, is
    recorded as a duplicate and applied once."""
    assert deliver(harness, account, body) == 200
    drain(account)
    Customer.objects.filter(account=account).update(email="changed@example.com")
    assert deliver(harness, account, body, at=at) == 200
    drain(account)
    statuses = sorted(WebhookEvent.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == [WebhookEvent.Status.DUPLICATE, WebhookEvent.Status.PROCESSED]
    assert Customer.objects.get(account=account).email == "changed@example.com"


# --- envelopes -------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"id": 1}', b"\xff\xfe"], ids=repr)
def test_a_malformed_envelope_is_refused_with_400(harness: GatewayHarness, body: bytes) -> None:
    account = harness.account()
    headers, wire = signed(harness, account, body)
    result = webhook_receive(account=account, headers=headers, body=wire)
    assert result.status_code == 400
    assert WebhookEvent.objects.get(account=account).status == WebhookEvent.Status.REJECTED


def test_an_unknown_event_type_is_kept_and_ignored(harness: GatewayHarness) -> None:
    account = harness.account()
    if not _receives_webhooks(harness, account):
        return
    assert deliver(harness, account, harness.unknown_event(account, event_id="evt_unk")) == 200
    drain(account)
    event = WebhookEvent.objects.get(account=account)
    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    assert not Customer.objects.filter(account=account).exists()


def test_a_duplicate_delivery_is_acknowledged_and_applied_once(harness: GatewayHarness) -> None:
    account = harness.account()
    if not _receives_webhooks(harness, account):
        return
    body = _customer_body(harness, account)
    assert deliver(harness, account, body) == 200
    assert deliver(harness, account, body) == 200
    drain(account)
    statuses = sorted(WebhookEvent.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == [WebhookEvent.Status.DUPLICATE, WebhookEvent.Status.PROCESSED]


# --- versions across batches -------------------------------------------------------------
def test_an_older_version_delivered_later_does_not_overwrite_a_newer_one(
    harness: GatewayHarness,
) -> None:
    account = harness.account()
    if not _receives_webhooks(harness, account):
        return
    newer = _customer_body(harness, account, 2)
    older = _customer_body(harness, account, 1)

    assert deliver(harness, account, newer) == 200
    drain(account)  # one batch
    assert deliver(harness, account, older) == 200
    drain(account)  # another: only the stored version can tell it is older

    assert Customer.objects.get(account=account, gateway_id="cus_sig").email == "v2@example.com"
    assert set(WebhookEvent.objects.filter(account=account).values_list("status", flat=True)) == {
        WebhookEvent.Status.PROCESSED
    }


def test_a_version_tie_across_batches_is_harmless(harness: GatewayHarness) -> None:
    account = harness.account()
    if not _receives_webhooks(harness, account):
        return
    at = T0 + timedelta(minutes=5)
    for n, email in enumerate(["first@example.com", "second@example.com"]):
        body = harness.customer_event(
            account, event_id=f"evt_tie_{n}", customer_id="cus_tie", email=email, at=at
        )
        assert deliver(harness, account, body) == 200
        drain(account)
    # Same version: the later delivery wins, there is still one customer, both are processed.
    assert Customer.objects.get(account=account, gateway_id="cus_tie").email == "second@example.com"
    assert WebhookEvent.objects.filter(account=account, status="processed").count() == 2


def _live_customer_id(harness: GatewayHarness, account: GatewayAccount, email: str) -> str:
    """The gateway's id of the customer just seeded with ``email`` (read through a listing)."""
    harness.seed_customers(account, [email])
    connector, cursor = harness.connector(account), None
    while True:
        page = connector.list_page(gw.ObjectKind.CUSTOMER, cursor)
        for obj in page.objects:
            if isinstance(obj, gw.GwCustomer) and obj.email == email:
                return obj.id
        if page.next_cursor is None:
            pytest.fail(f"the seeded customer {email} is not listed")
        cursor = page.next_cursor


@pytest.mark.parametrize("batches", ["one batch", "two batches"])
@pytest.mark.parametrize("live_first", [True, False], ids=["live state first", "live state last"])
def test_two_states_of_one_version_are_settled_by_the_gateways_current_state(
    harness: GatewayHarness, batches: str, live_first: bool
) -> None:
    """Stripe stamps events in whole seconds and promises no order: of two different states
    of the same second, the mirror keeps the one the gateway holds now, whichever came last."""
    account = harness.account()
    if not _receives_webhooks(harness, account) or not harness.connector(account).supports(
        gw.Capability.FETCH
    ):
        return
    live = f"live-{time.monotonic_ns()}@example.com"
    customer_id = _live_customer_id(harness, account, live)
    at = T0 + timedelta(minutes=7)
    emails = [live, "stale@example.com"] if live_first else ["stale@example.com", live]
    for n, email in enumerate(emails):
        body = harness.customer_event(
            account, event_id=f"evt_settle_{n}", customer_id=customer_id, email=email, at=at
        )
        assert deliver(harness, account, body) == 200
        if batches == "two batches":
            drain(account)
    drain(account)
    assert Customer.objects.get(account=account, gateway_id=customer_id).email == live
    assert WebhookEvent.objects.filter(account=account, status="processed").count() == 2


# --- idempotent actions -------------------------------------------------------------------
def test_a_refund_retried_with_the_same_key_refunds_once(harness: GatewayHarness) -> None:
    account = harness.account()
    connector = harness.connector(account)
    if not connector.supports(gw.Capability.PARTIAL_REFUND):
        return  # checked by test_an_undeclared_action_is_refused_as_a_missing_capability
    charge_id = harness.captured_charge(account, 5000)

    first = connector.refund_create(
        charge_id=charge_id, amount=1200, reason="arrived broken", idempotency_key="rk-1"
    )
    again = harness.connector(account).refund_create(
        charge_id=charge_id, amount=1200, reason="arrived broken", idempotency_key="rk-1"
    )

    refunds = [o for o in first.objects if isinstance(o, gw.GwRefund)]
    assert len(refunds) == 1 and refunds[0].amount == 1200
    assert [o.id for o in again.objects if isinstance(o, gw.GwRefund)] == [refunds[0].id]
    # Only 1200 of 5000 went back: the rest is still refundable, and no more than that.
    with pytest.raises(AmountTooLarge):
        harness.connector(account).refund_create(
            charge_id=charge_id, amount=3801, reason="", idempotency_key="rk-2"
        )


# --- error taxonomy ----------------------------------------------------------------------------
def test_an_over_refund_is_a_user_facing_error(harness: GatewayHarness) -> None:
    account = harness.account()
    connector = harness.connector(account)
    if not connector.supports(gw.Capability.REFUND):
        return
    charge_id = harness.captured_charge(account, 2000)
    with pytest.raises(AmountTooLarge) as caught:
        connector.refund_create(charge_id=charge_id, amount=2001, reason="", idempotency_key="o1")
    assert isinstance(caught.value, UserFacingError)
    assert not isinstance(caught.value, OperationalError)


def test_a_decline_is_a_user_facing_card_declined(harness: GatewayHarness) -> None:
    account = harness.account()
    connector = harness.connector(account)
    if not connector.supports(gw.Capability.CAPTURE):
        return
    customer_id = harness.declining_customer(account)
    with pytest.raises(CardDeclined) as caught:
        connector.charge_authorize(
            customer_id=customer_id,
            amount=1500,
            currency="EUR",
            description="",
            idempotency_key="d1",
        )
    assert isinstance(caught.value, UserFacingError) and caught.value.decline_code


def test_a_connector_without_credentials_accepts_its_account(harness: GatewayHarness) -> None:
    connector = harness.connector(harness.account())
    if connector.credential_fields:
        return  # remote connectors: test_refused_credentials_are_authentication_failed
    connector.check_credentials()


def test_refused_credentials_are_authentication_failed(remote_harness: GatewayHarness) -> None:
    account = remote_harness.account_with_bad_credentials()
    with pytest.raises(AuthenticationFailed) as caught:
        remote_harness.connector(account).check_credentials()
    assert isinstance(caught.value, UserFacingError)
    remote_harness.connector(remote_harness.account("Good")).check_credentials()


@pytest.mark.parametrize(
    ("failure", "error"), [("timeout", GatewayUnavailable), ("rate_limit", RateLimited)]
)
def test_timeouts_and_429s_are_operational_errors(
    remote_harness: GatewayHarness, failure: str, error: type[Exception]
) -> None:
    account = remote_harness.account()
    with remote_harness.failing(account, failure):
        connector = remote_harness.connector(account)
        if connector.supports(gw.Capability.BACKFILL):
            with pytest.raises(error) as caught:
                connector.list_page(gw.ObjectKind.CUSTOMER, None)
            assert isinstance(caught.value, OperationalError)
        if connector.supports(gw.Capability.REFUND):
            with pytest.raises(OperationalError):
                connector.refund_create(
                    charge_id="ch_x", amount=100, reason="", idempotency_key=f"t-{failure}"
                )
