"""``billingdesk gateway add recurly …``: the key is checked against the (fake) API before
anything is saved, then stored encrypted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from tests.fakes.recurly_api import RecurlyFake

from billingdesk.gateways.models import GatewayAccount

pytestmark = pytest.mark.django_db


def _add(fake: RecurlyFake, api_key: str, region: str = "us") -> str:
    out = StringIO()
    call_command(
        "gateway", "add", "recurly", "--name", "Recurly shop", "--currency", "usd",
        "--credential", f"api_key={api_key}", "--credential", f"region={region}",
        "--credential", "subdomain=acme", "--credential", f"api_base={fake.url}",
        "--webhook-secret", "whsec_recurly_key",
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


def test_add_checks_the_key_then_saves_it_encrypted(fake: RecurlyFake) -> None:
    fake.site("rk_secret_1", subdomain="acme")
    output = _add(fake, "rk_secret_1")

    account = GatewayAccount.objects.get(name="Recurly shop")
    assert account.kind == "recurly" and account.credentials["api_key"] == "rk_secret_1"
    assert account.webhook_secret == "whsec_recurly_key"
    assert f"/webhooks/{account.id}/" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM gateways_gatewayaccount")
        stored = cursor.fetchone()
    assert "rk_secret_1" not in str(stored[0]) and "whsec_recurly_key" not in str(stored[1])
    assert ("GET", "/sites") in fake.requests


def test_a_refused_key_saves_nothing_and_exits_2(fake: RecurlyFake) -> None:
    fake.site("rk_secret_1", subdomain="acme")
    with pytest.raises(CommandError) as caught:
        _add(fake, "rk_wrong")
    assert caught.value.returncode == 2 and "Recurly refused the API key" in str(caught.value)
    assert not GatewayAccount.objects.exists()


def test_a_region_other_than_us_or_eu_is_refused(fake: RecurlyFake) -> None:
    fake.site("rk_secret_1", subdomain="acme")
    with pytest.raises(CommandError, match="'us' or 'eu'") as caught:
        _add(fake, "rk_secret_1", region="apac")
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()
