"""The gateways' fakes run as demo servers (``python -m tests.fakes.demo_server``): the
command they print connects an account through the real connector, which backfills their
customers — what an operator without a PayPal or Braintree account does to try them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from billingdesk.billing.models import Customer
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.sync import account_backfill

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["paypal", "braintree"])
def test_a_demo_server_is_connected_and_backfilled(kind: str) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.demo_server", kind, "--payers", "3"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("demo-credentials "):
                given = json.loads(line.removeprefix("demo-credentials "))
                break
        else:
            pytest.fail("the demo server printed no credentials")
        args = ["gateway", "add", kind, "--name", f"{kind} (demo)", "--currency",
                given["currency"]]  # fmt: skip
        for key, value in given["credentials"].items():
            args += ["--credential", f"{key}={value}"]
        call_command(*args)
        account = GatewayAccount.objects.get(kind=kind)
        account_backfill(account=account)
        emails = set(Customer.objects.filter(account=account).values_list("email", flat=True))
        assert {"ada.lovelace@example.org", "grace.hopper@example.org"} <= emails
        assert len(emails) == 3
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
