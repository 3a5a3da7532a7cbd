"""Stripe customers and what hangs off them: payment methods, tax ids, coupons, discounts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from billingdesk.gateways.interface import (
    GatewayObject,
    GwCoupon,
    GwCustomer,
    GwDiscount,
    GwPaymentMethod,
    GwTaxId,
)
from billingdesk.gateways.stripe.mapping.fields import JSON, _base, _cur, _s, list_data, ref, ts


def customer(obj: JSON, updated: datetime) -> GwCustomer:
    """https://docs.stripe.com/api/customers/object"""
    address = obj.get("address") or {}
    return GwCustomer(
        **_base(obj, updated),
        email=_s(obj.get("email")),
        name=_s(obj.get("name")),
        phone=_s(obj.get("phone")),
        country=_s(address.get("country")).upper()[:2],
        currency=_cur(obj.get("currency")),
        description=_s(obj.get("description")),
    )


def payment_method(obj: JSON, updated: datetime, *, is_default: bool = False) -> GwPaymentMethod:
    """https://docs.stripe.com/api/payment_methods/object (card details only; never a PAN)."""
    card = obj.get("card") or {}
    return GwPaymentMethod(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")),
        method_type=_s(obj.get("type")) or "card",
        brand=_s(card.get("brand")),
        last4=_s(card.get("last4"))[-4:],
        exp_month=card.get("exp_month") or None,
        exp_year=card.get("exp_year") or None,
        fingerprint=_s(card.get("fingerprint")),
        is_default=is_default,
    )


def tax_id(obj: JSON, updated: datetime) -> GwTaxId:
    """https://docs.stripe.com/api/tax_ids/object"""
    verification = obj.get("verification") or {}
    owner = obj.get("owner") or {}
    return GwTaxId(
        **_base(obj, updated),
        customer_id=ref(obj.get("customer")) or ref(owner.get("customer")),
        tax_type=_s(obj.get("type")),
        value=_s(obj.get("value")),
        country=_s(obj.get("country")).upper()[:2],
        verification=_s(verification.get("status")),
    )


def coupon(obj: JSON, updated: datetime) -> GwCoupon:
    """https://docs.stripe.com/api/coupons/object (``percent_off`` is a float: kept as
    basis points so it stays an integer)."""
    percent = obj.get("percent_off")
    return GwCoupon(
        **_base(obj, updated),
        name=_s(obj.get("name")),
        percent_off_bp=round(float(percent) * 100) if percent is not None else None,
        amount_off=obj.get("amount_off"),
        currency=_cur(obj.get("currency")),
        duration=_s(obj.get("duration")) or "once",
        duration_in_months=obj.get("duration_in_months"),
        valid=bool(obj.get("valid", True)),
    )


def discount(obj: JSON, updated: datetime) -> tuple[GwDiscount, GwCoupon | None]:
    """https://docs.stripe.com/api/discounts/object. The coupon is ``coupon`` (up to
    2025-09-30.clover) or ``source.coupon``; old API versions give discounts no id, so one is
    made from what they apply to."""
    source = obj.get("source") or {}
    raw_coupon = obj.get("coupon") or source.get("coupon")
    coupon_id = ref(raw_coupon) or ""
    customer_id = ref(obj.get("customer"))
    subscription_id = ref(obj.get("subscription"))
    discount_id = _s(obj.get("id")) or f"di_{coupon_id}_{subscription_id or customer_id}"
    gw = GwDiscount(
        id=discount_id,
        updated=updated,
        created=ts(obj.get("start")),
        raw=obj,
        coupon_id=coupon_id,
        customer_id=customer_id,
        subscription_id=subscription_id,
        start=ts(obj.get("start")),
        end=ts(obj.get("end")),
    )
    embedded = coupon(raw_coupon, updated) if isinstance(raw_coupon, Mapping) else None
    return gw, embedded


def customer_bundle(obj: JSON, updated: datetime) -> Iterator[GatewayObject]:
    """A listed customer and what its page embeds (``expand[]=data.tax_ids`` and
    ``data.invoice_settings.default_payment_method``): tax ids, the default card, the
    customer-level discount. One page of customers costs one API call."""
    yield customer(obj, updated)
    if obj.get("deleted"):
        return
    for item in list_data(obj.get("tax_ids")):
        yield tax_id({**item, "customer": item.get("customer") or obj.get("id")}, updated)
    default_pm = (obj.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default_pm, Mapping):
        yield payment_method(
            {**default_pm, "customer": default_pm.get("customer") or obj.get("id")},
            updated,
            is_default=True,
        )
    yield from _discounts(obj.get("discount"), updated, customer_id=_s(obj.get("id")))


def _discounts(
    value: Any, updated: datetime, *, customer_id: str | None = None, subscription_id: str = ""
) -> Iterator[GatewayObject]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, Mapping):
            continue  # an unexpanded id: nothing to map without another call
        fixed = dict(item)
        fixed.setdefault("customer", customer_id)
        if subscription_id:
            fixed.setdefault("subscription", subscription_id)
        gw, embedded_coupon = discount(fixed, updated)
        if embedded_coupon is not None:
            yield embedded_coupon
        if gw.coupon_id:
            yield gw
