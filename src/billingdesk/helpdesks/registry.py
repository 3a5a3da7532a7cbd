"""Which provider serves which helpdesk kind.

Built-in providers register on import (``load_builtin`` from ``HelpdesksConfig.ready``); a
third-party package can call ``register`` from its own ``AppConfig.ready``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from billingdesk.core.errors import NotFound

if TYPE_CHECKING:
    from billingdesk.helpdesks.interface import Provider

BUILTIN = ("zendesk", "helpscout", "intercom", "front", "freshdesk", "chatwoot", "iframe")

_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    existing = _PROVIDERS.get(provider.kind)
    if existing is not None and type(existing) is not type(provider):
        raise ValueError(f"helpdesk kind {provider.kind!r} is already registered")
    _PROVIDERS[provider.kind] = provider
    return provider


def load_builtin() -> None:
    for name in BUILTIN:
        import_module(f"billingdesk.helpdesks.{name}.provider")


def provider_for(kind: str) -> Provider:
    try:
        return _PROVIDERS[kind]
    except KeyError:
        raise NotFound(f"no helpdesk of kind {kind!r}") from None


def kinds() -> list[tuple[str, str]]:
    """(kind, display name) pairs, for form choices."""
    return sorted((kind, p.display_name) for kind, p in _PROVIDERS.items())
