"""Which connector serves which gateway kind.

Built-in connectors register themselves when their app module is imported (see
``GatewaysConfig.ready``); a third-party package can call ``register`` from its own
``AppConfig.ready`` to add a gateway billingdesk does not ship.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billingdesk.core.errors import NotFound

if TYPE_CHECKING:
    from billingdesk.gateways.interface import Connector
    from billingdesk.gateways.models import GatewayAccount

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
