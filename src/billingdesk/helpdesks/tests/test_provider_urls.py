"""Each helpdesk provider brings its own addresses (``Provider.urlconf``), mounted by
``helpdesks.urls`` through the registry: adding a helpdesk, built in or installed as a
package, edits no central list."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import clear_url_caches, path, resolve, reverse

from billingdesk.helpdesks import registry
from billingdesk.helpdesks.interface import EmbedFamily, Provider


def _launch(request: HttpRequest, connection_id: str) -> HttpResponse:
    return HttpResponse(f"throwaway launch for {connection_id}", content_type="text/plain")


# This module is the throwaway provider's URLconf, as a third-party package's urls.py would be.
urlpatterns = [path("embed/throwaway/<str:connection_id>/", _launch, name="throwaway")]


class ThrowawayProvider(Provider):
    kind = "throwaway"
    display_name = "Throwaway helpdesk"
    family = EmbedFamily.IFRAME
    urlconf = __name__


class ClashingProvider(ThrowawayProvider):
    kind = "clashing"  # names its address "throwaway" too


def _remount() -> None:
    import billingdesk.config.urls
    import billingdesk.helpdesks.urls

    importlib.reload(billingdesk.helpdesks.urls)
    importlib.reload(billingdesk.config.urls)
    clear_url_caches()


@pytest.fixture
def registered() -> Iterator[None]:
    before = dict(registry._PROVIDERS)
    try:
        yield
    finally:
        registry._PROVIDERS.clear()
        registry._PROVIDERS.update(before)
        _remount()


def test_every_builtin_provider_address_is_mounted_from_its_package():
    for kind, _ in registry.kinds():
        provider = registry.provider_for(kind)
        assert provider.urlconf == f"billingdesk.helpdesks.{kind}.urls"
        patterns = provider.url_patterns()
        assert patterns, kind
        for pattern in patterns:
            url = reverse(f"helpdesks:{pattern.name}", kwargs={"connection_id": "c1"})
            assert url.startswith(f"/embed/{kind}/c1/")
            assert resolve(url).func is pattern.callback


@pytest.mark.django_db
def test_a_provider_registered_from_elsewhere_serves_its_own_address(registered):
    client = Client()
    assert client.get("/embed/throwaway/c9/").status_code == 404
    registry.register(ThrowawayProvider())
    _remount()
    assert reverse("helpdesks:throwaway", kwargs={"connection_id": "c9"}) == "/embed/throwaway/c9/"
    response = client.get("/embed/throwaway/c9/")
    assert response.status_code == 200
    assert response.content == b"throwaway launch for c9"


def test_two_providers_naming_an_address_alike_are_refused(registered):
    registry.register(ThrowawayProvider())
    registry.register(ClashingProvider())
    with pytest.raises(ImproperlyConfigured, match="'clashing' names an address 'throwaway'"):
        registry.url_patterns()
