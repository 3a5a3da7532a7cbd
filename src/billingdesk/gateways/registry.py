"""Which connector serves which gateway kind, and what a connector must implement.

Every connector, built in or third-party, registers the same way: its app's
``AppConfig.ready`` calls ``register``. A third-party package is enabled without editing
billingdesk's settings, by naming its app in ``BILLINGDESK_EXTRA_APPS`` or by declaring it
in the ``billingdesk.apps`` entry-point group (see ``billingdesk.config.plugins``).

``ACTION_METHODS`` says which ``Connector`` method each capability needs: a connector
declares a capability if and only if it overrides the method (``capability_mismatches``,
checked by the contract suite and by a system check at start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.core.errors import NotFound
from billingdesk.gateways.interface import Capability, Connector

if TYPE_CHECKING:
    from billingdesk.gateways.models import GatewayAccount

# The action method each capability needs. An authorisation exists to be captured or voided,
# so ``charge_authorize`` belongs to either.
ACTION_METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.REFUND: ("refund_create",),
    Capability.PARTIAL_REFUND: ("refund_create",),
    Capability.CAPTURE: ("charge_authorize", "charge_capture"),
    Capability.PARTIAL_CAPTURE: ("charge_capture",),
    Capability.VOID: ("charge_authorize", "charge_void"),
    Capability.CANCEL_SUBSCRIPTION: ("subscription_cancel",),
    Capability.CANCEL_AT_PERIOD_END: ("subscription_cancel",),
    Capability.CREATE_SUBSCRIPTION: ("subscription_create",),
    Capability.SEND_INVOICE: ("invoice_send",),
    Capability.APPLY_COUPON: ("coupon_apply",),
    Capability.ADD_TAX_ID: ("tax_id_add",),
    Capability.PAYMENT_REQUEST: ("payment_request_create",),
    Capability.CARD_UPDATE: ("card_update_start",),
    Capability.FETCH: ("object_fetch",),
    Capability.DISPUTE_EVIDENCE: ("dispute_evidence_submit", "dispute_accept"),
    Capability.PAUSE_SUBSCRIPTION: ("subscription_pause", "subscription_resume"),
    Capability.VOID_INVOICE: ("invoice_void",),
    Capability.REACTIVATE_SUBSCRIPTION: ("subscription_reactivate",),
    Capability.TERMINATE_WITH_REFUND: ("subscription_terminate",),
}

_CONNECTORS: dict[str, type[Connector]] = {}


def register(connector: type[Connector]) -> type[Connector]:
    existing = _CONNECTORS.get(connector.kind)
    if existing is not None and existing is not connector:
        raise ValueError(f"gateway kind {connector.kind!r} is already registered")
    _CONNECTORS[connector.kind] = connector
    return connector


def connector_class(kind: str) -> type[Connector]:
    try:
        return _CONNECTORS[kind]
    except KeyError:
        raise NotFound(f"no connector for gateway kind {kind!r}") from None


def connector_for(account: GatewayAccount) -> Connector:
    return connector_class(account.kind)(account)


def kinds() -> list[tuple[str, str]]:
    """(kind, display name) pairs, for form choices."""
    return sorted((kind, cls.display_name) for kind, cls in _CONNECTORS.items())


def implemented_actions(connector: type[Connector]) -> set[str]:
    """The action methods ``connector`` overrides (the base class only refuses)."""
    names = {name for names in ACTION_METHODS.values() for name in names}
    return {name for name in names if getattr(connector, name) is not getattr(Connector, name)}


def capability_mismatches(connector: type[Connector]) -> list[str]:
    """Why ``connector``'s declared capabilities and its methods disagree ([] if they agree)."""
    implemented = implemented_actions(connector)
    problems = [
        f"declares {capability.value} but does not implement {name}"
        for capability in sorted(connector.capabilities)
        for name in ACTION_METHODS.get(capability, ())
        if name not in implemented
    ]
    needed = {name for c in connector.capabilities for name in ACTION_METHODS.get(c, ())}
    problems += [
        f"implements {name} but declares none of "
        + ", ".join(c.value for c, names in ACTION_METHODS.items() if name in names)
        for name in sorted(implemented - needed)
    ]
    return problems


def connectors() -> list[type[Connector]]:
    return [_CONNECTORS[kind] for kind in sorted(_CONNECTORS)]
