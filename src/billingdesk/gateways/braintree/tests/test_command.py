"""``billingdesk gateway add braintree …``: the keys are checked against the (fake) API
before anything is saved, then stored encrypted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from tests.fakes.braintree_gateway import BraintreeFake

from billingdesk.gateways.models import GatewayAccount

pytestmark = pytest.mark.django_db


def _add(fake: BraintreeFake, private_key: str, environment: str = "sandbox") -> str:
    out = StringIO()
    call_command(
        "gateway",
        "add",
        "braintree",
        "--name",
        "BT shop",
        "--currency",
        "usd",
        "--credential",
        "merchant_id=mid1",
        "--credential",
        "public_key=pub_1",
        "--credential",
        f"private_key={private_key}",
        "--credential",
        f"environment={environment}",
        "--credential",
        f"api_base={fake.url}",
        stdout=out,
    )
    return out.getvalue()


def test_add_checks_the_keys_then_saves_them_encrypted(fake: BraintreeFake) -> None:
    fake.merchant("mid1", "pub_1", "priv_secret_1", "USD")
    output = _add(fake, "priv_secret_1")

    account = GatewayAccount.objects.get(name="BT shop")
    assert account.kind == "braintree" and account.default_currency == "USD"
    assert account.credentials["private_key"] == "priv_secret_1"
    assert f"/webhooks/{account.id}/" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM gateways_gatewayaccount")
        stored = cursor.fetchone()[0]
    assert "priv_secret_1" not in str(stored)  # encrypted at rest
    assert ("GET", "/merchants/mid1/plans/") in fake.requests


def test_refused_keys_save_nothing_and_exit_2(fake: BraintreeFake) -> None:
    fake.merchant("mid1", "pub_1", "priv_secret_1", "USD")
    with pytest.raises(CommandError, match="Braintree refused these credentials") as caught:
        _add(fake, "priv_wrong")
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()


def test_an_environment_other_than_sandbox_or_production_is_refused() -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="sandbox' or 'production") as caught:
        call_command(
            "gateway",
            "add",
            "braintree",
            "--name",
            "X",
            "--credential",
            "merchant_id=m",
            "--credential",
            "public_key=p",
            "--credential",
            "private_key=k",
            "--credential",
            "environment=staging",
            stdout=out,
        )
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()
