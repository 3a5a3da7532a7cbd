"""``billingdesk gateway add woocommerce …``: the keys are checked against the (fake) shop
before anything is saved, then stored encrypted with the webhook secret."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from tests.fakes.woocommerce_api import Shop, WooFake

from billingdesk.gateways.models import GatewayAccount

pytestmark = pytest.mark.django_db


def _add(fake: WooFake, shop: Shop, secret: str) -> str:
    out = StringIO()
    call_command(
        "gateway", "add", "woocommerce", "--name", "Woo shop", "--currency", "eur",
        "--credential", f"site_url={fake.site_url(shop)}",
        "--credential", f"consumer_key={shop.key}",
        "--credential", f"consumer_secret={secret}",
        "--webhook-secret", "wc-hook-secret-1",
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


def test_add_checks_the_keys_then_saves_them_encrypted(fake: WooFake, shop: Shop) -> None:
    output = _add(fake, shop, shop.secret)
    account = GatewayAccount.objects.get(name="Woo shop")
    assert account.kind == "woocommerce" and account.default_currency == "EUR"
    assert account.credentials["consumer_secret"] == shop.secret
    assert account.webhook_secret == "wc-hook-secret-1"
    assert f"/webhooks/{account.id}/" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM gateways_gatewayaccount")
        stored = cursor.fetchone()
    assert shop.secret not in str(stored[0]) and "wc-hook-secret-1" not in str(stored[1])
    assert ("GET", "/customers") in [(m, p) for m, p, _ in fake.log]


def test_refused_keys_save_nothing_and_exit_2(fake: WooFake, shop: Shop) -> None:
    with pytest.raises(CommandError) as caught:
        _add(fake, shop, "cs_typo")
    assert caught.value.returncode == 2
    assert "WooCommerce refused the REST API keys" in str(caught.value)
    assert not GatewayAccount.objects.exists()


def test_a_site_url_that_is_not_a_shop_address_is_refused(fake: WooFake, shop: Shop) -> None:
    with pytest.raises(CommandError, match="site URL") as caught:
        call_command(
            "gateway", "add", "woocommerce", "--name", "Bad",
            "--credential", "site_url=shop.example",
            "--credential", "consumer_key=ck_1", "--credential", "consumer_secret=cs_1",
            stdout=StringIO(),
        )  # fmt: skip
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()
