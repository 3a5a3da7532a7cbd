"""How each gateway kind is held in the mirror: its model, its references to other
kinds, and one object's column values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

from billingdesk.billing.identity import normalize_email, normalize_phone
from billingdesk.billing.models import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Dispute,
    Invoice,
    Mirrored,
    PaymentMethod,
    Refund,
    Subscription,
    TaxId,
)
from billingdesk.gateways.interface import GatewayObject, ObjectKind

_BASE_FIELDS = {"id", "updated", "created", "raw", "deleted"}


@dataclass(frozen=True)
class _Spec:
    model: type[Mirrored]
    # dataclass attribute holding a gateway id -> (foreign key name, referenced kind)
    refs: dict[str, tuple[str, ObjectKind]]
    # dataclass attribute -> model column, where the names differ (plain references kept
    # without a foreign key)
    renamed: dict[str, str] = field(default_factory=dict)


_SPECS: dict[ObjectKind, _Spec] = {
    ObjectKind.CUSTOMER: _Spec(Customer, {}),
    ObjectKind.PAYMENT_METHOD: _Spec(
        PaymentMethod, {"customer_id": ("customer", ObjectKind.CUSTOMER)}
    ),
    ObjectKind.CHARGE: _Spec(
        Charge,
        {
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "payment_method_id": ("payment_method", ObjectKind.PAYMENT_METHOD),
            "invoice_id": ("invoice", ObjectKind.INVOICE),
        },
    ),
    ObjectKind.REFUND: _Spec(Refund, {"charge_id": ("charge", ObjectKind.CHARGE)}),
    ObjectKind.SUBSCRIPTION: _Spec(
        Subscription, {"customer_id": ("customer", ObjectKind.CUSTOMER)}
    ),
    ObjectKind.INVOICE: _Spec(
        Invoice,
        {
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "subscription_id": ("subscription", ObjectKind.SUBSCRIPTION),
        },
        {"charge_id": "charge_ref"},
    ),
    ObjectKind.COUPON: _Spec(Coupon, {}),
    ObjectKind.DISCOUNT: _Spec(
        Discount,
        {
            "coupon_id": ("coupon", ObjectKind.COUPON),
            "customer_id": ("customer", ObjectKind.CUSTOMER),
            "subscription_id": ("subscription", ObjectKind.SUBSCRIPTION),
        },
    ),
    ObjectKind.TAX_ID: _Spec(TaxId, {"customer_id": ("customer", ObjectKind.CUSTOMER)}),
    ObjectKind.DISPUTE: _Spec(Dispute, {"charge_id": ("charge", ObjectKind.CHARGE)}),
}

# For each kind, the (referring kind, foreign key name) pairs pointing at it.
_REFERRERS: dict[ObjectKind, list[tuple[ObjectKind, str]]] = defaultdict(list)
for _kind, _spec in _SPECS.items():
    for _fk, _target in _spec.refs.values():
        _REFERRERS[_target].append((_kind, _fk))


def _columns(obj: GatewayObject, spec: _Spec) -> dict[str, Any]:
    """Model column values for one gateway object (without foreign keys)."""
    values: dict[str, Any] = {
        "gateway_created_at": obj.created,
        "gateway_updated_at": obj.updated,
        "raw": dict(obj.raw),
        "deleted": obj.deleted,
    }
    for f in fields(obj):
        if f.name in _BASE_FIELDS:
            continue
        value = getattr(obj, f.name)
        if f.name in spec.refs:
            values[f"{spec.refs[f.name][0]}_ref"] = value or ""
        elif f.name in spec.renamed:
            values[spec.renamed[f.name]] = value or ""
        else:
            values[f.name] = "" if value is None and _is_text(spec.model, f.name) else value
    if spec.model is Customer:
        values["email_normalized"] = normalize_email(values.get("email"))
        values["phone_normalized"] = normalize_phone(
            values.get("phone"), region=values.get("country") or None
        )
    return values


def _is_text(model: type[Mirrored], name: str) -> bool:
    return model._meta.get_field(name).get_internal_type() in {"CharField", "TextField"}
