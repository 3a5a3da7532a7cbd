"""Builders of report test data: gateway objects written through ``mirror_upsert``, the way
sync and webhooks write them, so the rollup is kept by the real receiver."""

from __future__ import annotations

import itertools
from datetime import datetime

from billingdesk.billing.services import mirror_upsert
from billingdesk.gateways import interface as gw
from billingdesk.gateways.models import GatewayAccount

_seq = itertools.count(1)


def account(name: str, currency: str = "EUR") -> GatewayAccount:
    return GatewayAccount.objects.create(kind="sandbox", name=name, default_currency=currency)


def charge(
    acct: GatewayAccount,
    at: datetime,
    amount: int,
    currency: str = "EUR",
    *,
    status: gw.ChargeStatus = gw.ChargeStatus.CAPTURED,
    product: str = "Pro",
    gid: str | None = None,
    captured: int | None = None,
    updated: datetime | None = None,
) -> gw.GwCharge:
    if captured is None:
        paid = status not in (gw.ChargeStatus.FAILED, gw.ChargeStatus.PENDING)
        captured = amount if paid and status != gw.ChargeStatus.AUTHORIZED else 0
    obj = gw.GwCharge(
        id=gid or f"ch_{next(_seq)}", created=at, updated=updated or at, customer_id=None,
        amount=amount, amount_captured=captured, currency=currency, status=status,
        product=product,
    )  # fmt: skip
    mirror_upsert(account=acct, objects=[obj])
    return obj


def refund(
    acct: GatewayAccount,
    of: gw.GwCharge,
    at: datetime,
    amount: int,
    *,
    status: gw.RefundStatus = gw.RefundStatus.SUCCEEDED,
    gid: str | None = None,
    updated: datetime | None = None,
) -> gw.GwRefund:
    obj = gw.GwRefund(
        id=gid or f"re_{next(_seq)}", created=at, updated=updated or at, charge_id=of.id,
        amount=amount, currency=of.currency, status=status,
    )  # fmt: skip
    mirror_upsert(account=acct, objects=[obj])
    return obj


def dispute(
    acct: GatewayAccount,
    of: gw.GwCharge,
    at: datetime,
    *,
    status: gw.DisputeStatus = gw.DisputeStatus.LOST,
    amount: int | None = None,
    gid: str | None = None,
    updated: datetime | None = None,
) -> gw.GwDispute:
    obj = gw.GwDispute(
        id=gid or f"dp_{next(_seq)}", created=at, updated=updated or at, charge_id=of.id,
        amount=of.amount if amount is None else amount, currency=of.currency, status=status,
    )  # fmt: skip
    mirror_upsert(account=acct, objects=[obj])
    return obj
