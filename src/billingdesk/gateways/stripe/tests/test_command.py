"""``billingdesk gateway add stripe …`` against localstripe (a real server that accepts
any ``sk_…`` key and refuses others with 401)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.stripe.tests.conftest import TEST_KEY


@pytest.mark.django_db
def test_add_checks_the_key_then_saves_it_encrypted(localstripe: str) -> None:
    out = StringIO()
    call_command(
        "gateway",
        "add",
        "stripe",
        "--name",
        "EU shop",
        "--credential",
        f"secret_key={TEST_KEY}",
        "--credential",
        f"api_base={localstripe}",
        "--webhook-secret",
        "whsec_abc",
        stdout=out,
    )

    account = GatewayAccount.objects.get(name="EU shop")
    assert account.credentials["secret_key"] == TEST_KEY
    assert account.webhook_secret == "whsec_abc"
    assert f"/webhooks/{account.id}/" in out.getvalue()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM gateways_gatewayaccount")
        stored = cursor.fetchone()[0]
    assert TEST_KEY not in stored  # encrypted at rest

    listed = StringIO()
    call_command("gateway", "list", stdout=listed)
    assert "EU shop" in listed.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stripe", "--name", "X", "--credential", "secret_key=bad_key_1"], "refused"),
        (["stripe", "--name", "X"], "secret_key"),
        (["stripe", "--name", "X", "--credential", "oops"], "KEY=VALUE"),
        (["nope", "--name", "X"], "unknown gateway kind"),
    ],
)
def test_bad_input_exits_2_and_saves_nothing(
    localstripe: str, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        call_command("gateway", "add", *args, "--credential", f"api_base={localstripe}")
    assert caught.value.returncode == 2
    assert not GatewayAccount.objects.exists()
