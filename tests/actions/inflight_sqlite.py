"""Run by ``test_claims.py`` in a subprocess, on an SQLite *file* database of its own.

A refund's gateway call is held open (the sandbox connector, made to wait until released)
while another thread delivers a signed webhook to the intake view. With the gateway called
inside the action's transaction, the intake waits on SQLite's write lock and fails with
"database is locked" once the busy timeout passes; with the call outside any transaction it
is stored at once. Prints one JSON line with what happened.
"""

from __future__ import annotations

import json
import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingdesk.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402

assert connection.vendor == "sqlite" and str(settings.DATABASES["default"]["NAME"]).endswith(
    ".sqlite3"
), settings.DATABASES["default"]["NAME"]
# SQLite's busy timeout: how long a writer waits for the lock before "database is locked".
settings.DATABASES["default"]["OPTIONS"]["timeout"] = float(sys.argv[1])
call_command("migrate", verbosity=0)

from django.contrib.auth.models import User  # noqa: E402

from billingdesk.accounts.defaults import limits_seed  # noqa: E402
from billingdesk.accounts.models import AgentProfile  # noqa: E402
from billingdesk.actions.models import ActionKind, ActionRequest  # noqa: E402
from billingdesk.actions.services import action_key_issue, action_submit  # noqa: E402
from billingdesk.billing.models import Charge  # noqa: E402
from billingdesk.core.signing import sign_header  # noqa: E402
from billingdesk.gateways.models import GatewayAccount, WebhookEvent  # noqa: E402
from billingdesk.gateways.sandbox.connector import SandboxConnector  # noqa: E402
from billingdesk.gateways.sandbox.engine import SandboxEngine  # noqa: E402
from billingdesk.gateways.sync import account_backfill  # noqa: E402

account = GatewayAccount.objects.create(kind="sandbox", name="file db", default_currency="EUR")
engine = SandboxEngine(account, webhooks=False)
customer = engine.customer_create(email="ana@example.com", name="Ana")
engine.card_attach(customer_id=customer.object_id, number="4242424242424242", exp_month=12,
                   exp_year=2031)  # fmt: skip
paid = engine.charge_create(customer_id=customer.object_id, amount=5000, currency="EUR")
account_backfill(account=account)
limits_seed(["EUR"])
ana = User.objects.create_user("ana")
AgentProfile.objects.create(user=ana, role="agent")
charge = Charge.objects.get(account=account, gateway_id=paid.object_id)

in_call = threading.Event()
release = threading.Event()
original = SandboxConnector.refund_create


def slow_refund(self: SandboxConnector, **kwargs: object) -> object:
    in_call.set()
    release.wait()
    return original(self, **kwargs)  # type: ignore[arg-type]


SandboxConnector.refund_create = slow_refund  # type: ignore[method-assign]
outcome: dict[str, object] = {}


def agent_refunds() -> None:
    try:
        done = action_submit(
            user=ana, kind=ActionKind.REFUND, target=charge, params={"amount": 1000},
            reason_code="duplicate", reason_text="twice",
            idempotency_key=action_key_issue(user=ana),
        )  # fmt: skip
        outcome["refund"] = done.status
    except Exception as exc:  # reported, not raised: the parent reads the JSON line
        outcome["refund"] = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()


refunding = threading.Thread(target=agent_refunds)
refunding.start()
in_call.wait()  # the gateway has the refund and has not answered
outcome["running_while_in_call"] = ActionRequest.objects.filter(status="running").count()
event = {
    "object": "event", "id": "evt_during_refund", "type": "customer.updated",
    "created": "2026-03-01T00:00:00Z",
    "data": {"object": {"id": customer.object_id, "object": "customer"}},
}  # fmt: skip
body = json.dumps(event).encode()
try:
    response = Client().post(
        account.webhook_path, data=body, content_type="application/json",
        HTTP_BILLINGDESK_SIGNATURE=sign_header(body, account.webhook_secret),
    )  # fmt: skip
    outcome["intake_status"] = response.status_code
except Exception as exc:
    outcome["intake_status"] = f"{type(exc).__name__}: {exc}"
outcome["stored"] = WebhookEvent.objects.filter(event_id="evt_during_refund").count()
release.set()
refunding.join()
charge.refresh_from_db()
outcome["amount_refunded"] = charge.amount_refunded
print(json.dumps(outcome))
