"""``billingdesk gateway add paypal …``: the client id, secret and webhook id are checked
against the (fake) API before anything is saved, then stored encrypted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from tests.fakes.paypal_api import PayPalFake

from billingdesk.gateways.models import GatewayAccount

pytestmark = pytest.mark.django_db


def _add(
    fake: PayPalFake, secret: str, *, webhook_id: str = "WH-1", environment: str = "sandbox"
) -> str:
    out = StringIO()
    credentials = {
        "client_id": "app1", "client_secret": secret, "environment": environment,
        "webhook_id": webhook_id, "api_base": fake.url,
    }  # fmt: skip
    args = ["gateway", "add", "paypal", "--name", "PP shop", "--currency", "eur"]
    for key, value in credentials.items():
        args += ["--credential", f"{key}={value}"]
    call_command(*args, stdout=out)
    return out.getvalue()


def test_add_checks_the_app_and_its_webhook_then_saves_them_encrypted(fake: PayPalFake) -> None:
    fake.merchant("app1", "s3cret-value", "EUR").webhooks.add("WH-1")
    output = _add(fake, "s3cret-value")

    account = GatewayAccount.objects.get(name="PP shop")
    assert account.kind == "paypal" and account.default_currency == "EUR"
    assert account.credentials["client_secret"] == "s3cret-value"
    assert f"/webhooks/{account.id}/" in output or str(account.id) in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM gateways_gatewayaccount")
        stored = cursor.fetchone()[0]
    assert "s3cret-value" not in str(stored)  # encrypted at rest
    assert ("POST", "/v1/oauth2/token") in fake.requests
    assert ("GET", "/v1/notifications/webhooks/WH-1") in fake.requests


@pytest.mark.parametrize(
    ("secret", "webhook_id", "environment", "words"),
    [
        ("wrong", "WH-1", "sandbox", "refused the client id and secret"),
        ("s3cret-value", "WH-other-app", "sandbox", "no webhook with id WH-other-app"),
        ("s3cret-value", "WH-1", "staging", "'sandbox' or 'live'"),
    ],
)
def test_refused_credentials_save_nothing_and_exit_2(
    fake: PayPalFake, secret: str, webhook_id: str, environment: str, words: str
) -> None:
    fake.merchant("app1", "s3cret-value", "EUR").webhooks.add("WH-1")
    with pytest.raises(CommandError, match=words) as caught:
        if environment == "staging":  # no api_base: the environment names the host
            call_command(
                "gateway", "add", "paypal", "--name", "X", "--credential", "client_id=a",
                "--credential", "client_secret=b", "--credential", "webhook_id=c",
                "--credential", "environment=staging", stdout=StringIO(),
            )  # fmt: skip
        else:
            _add(fake, secret, webhook_id=webhook_id, environment=environment)
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()
