"""Which provider serves which helpdesk kind, and the addresses each brings.

Built-in providers register on import (``load_builtin`` from ``HelpdesksConfig.ready``); a
third-party package can call ``register`` from its own ``AppConfig.ready``. Each provider's
own URL patterns (``Provider.urlconf``) are mounted by ``helpdesks.urls`` from here
(``url_patterns``), so adding a helpdesk edits no central list.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from billingdesk.core.errors import NotFound

if TYPE_CHECKING:
    from django.urls import URLPattern, URLResolver

    from billingdesk.helpdesks.interface import Provider

BUILTIN = (
    "zendesk",
    "helpscout",
    "intercom",
    "front",
    "freshdesk",
    "chatwoot",
    "zammad",
    "freescout",
    "iframe",
)

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


def url_patterns() -> list[URLPattern | URLResolver]:
    """Every registered provider's own URL patterns, in registration order. Two providers
    naming an address alike would make one unreachable by name: refused."""
    patterns: list[URLPattern | URLResolver] = []
    owner: dict[str, str] = {}
    for kind, provider in _PROVIDERS.items():
        for pattern in provider.url_patterns():
            name = getattr(pattern, "name", None)
            if name and owner.setdefault(name, kind) != kind:
                raise ImproperlyConfigured(
                    f"helpdesk {kind!r} names an address {name!r} that {owner[name]!r} uses"
                )
            patterns.append(pattern)
    return patterns


def kinds() -> list[tuple[str, str]]:
    """(kind, display name) pairs, for form choices."""
    return sorted((kind, p.display_name) for kind, p in _PROVIDERS.items())
