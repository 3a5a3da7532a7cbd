"""The sandbox connector's invoice void and subscription reactivation: idempotent by key
like its other actions, refused on a paid invoice and an ended subscription."""

from __future__ import annotations

import pytest

from billingdesk.core.errors import NotAllowed
from billingdesk.gateways.interface import GwInvoice, GwSubscription, InvoiceStatus
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sandbox.connector import SandboxConnector
from billingdesk.gateways.sandbox.engine import Line, SandboxEngine
from billingdesk.gateways.sandbox.models import SandboxEvent, SandboxObject

pytestmark = pytest.mark.django_db


def test_an_open_invoice_is_voided_once_per_key(
    account: GatewayAccount, engine: SandboxEngine, customer: SandboxObject
) -> None:
    invoice = engine.invoice_create(
        customer_id=customer.object_id, currency="EUR", lines=[Line("Fee", 1200)]
    )
    engine.invoice_finalize(invoice_id=invoice.object_id)
    connector = SandboxConnector(account)

    first = connector.invoice_void(invoice_id=invoice.object_id, idempotency_key="v")
    again = connector.invoice_void(invoice_id=invoice.object_id, idempotency_key="v")

    [voided] = [o for o in first.objects if isinstance(o, GwInvoice)]
    assert voided.status is InvoiceStatus.VOID
    assert [o.id for o in again.objects] == [o.id for o in first.objects]
    assert SandboxEvent.objects.filter(type="invoice.voided").count() == 1
    with pytest.raises(NotAllowed, match="Only an open invoice can be voided"):
        connector.invoice_void(invoice_id=invoice.object_id, idempotency_key="v2")


def test_reactivation_undoes_a_cancellation_at_period_end_only(
    account: GatewayAccount, customer: SandboxObject
) -> None:
    connector = SandboxConnector(account)
    created = connector.subscription_create(
        customer_id=customer.object_id, plan="starter-monthly", idempotency_key="s1"
    )
    [sub] = [o for o in created.objects if isinstance(o, GwSubscription)]
    with pytest.raises(NotAllowed, match="not set to cancel"):
        connector.subscription_reactivate(subscription_id=sub.id, idempotency_key="r0")

    connector.subscription_cancel(subscription_id=sub.id, at_period_end=True, idempotency_key="c")
    back = connector.subscription_reactivate(subscription_id=sub.id, idempotency_key="r1")
    [state] = [o for o in back.objects if isinstance(o, GwSubscription)]
    assert (state.status.value, state.cancel_at_period_end) == ("active", False)
    assert SandboxObject.objects.get(object_id=sub.id).data["canceled_at"] is None

    connector.subscription_cancel(subscription_id=sub.id, at_period_end=False, idempotency_key="e")
    with pytest.raises(NotAllowed, match="already ended"):
        connector.subscription_reactivate(subscription_id=sub.id, idempotency_key="r2")
