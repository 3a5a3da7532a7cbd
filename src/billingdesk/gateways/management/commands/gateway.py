"""Connect gateway accounts from the command line: ``billingdesk gateway add|list``.

``add`` checks the credentials against the gateway (through the connector's
``check_credentials``) before anything is saved; the credentials are then stored encrypted.
Bad input prints a plain message on stderr and exits with code 2.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from billingdesk.core.errors import BillingdeskError, NotFound, OperationalError
from billingdesk.gateways.models import GatewayAccount
from billingdesk.gateways.registry import connector_class, kinds


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Connect a payment gateway account (gateway add …) or list them (gateway list)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect an account after checking its credentials")
        add.add_argument("kind", help="gateway kind, e.g. stripe")
        add.add_argument("--name", required=True, help="a name for this account")
        add.add_argument(
            "--credential",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a credential, e.g. secret_key=sk_live_…; repeat for several",
        )
        add.add_argument("--webhook-secret", default="", help="the webhook signing secret")
        add.add_argument("--currency", default="", help="default ISO 4217 currency")
        sub.add_parser("list", help="list connected accounts and their webhook URLs")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list()
        else:
            self._add(options)

    def _list(self) -> None:
        for account in GatewayAccount.objects.all():
            state = "active" if account.is_active else "inactive"
            self.stdout.write(
                f"{account.id}  {account.kind:<12} {account.name}  [{state}]  "
                f"webhook: {account.webhook_url}"
            )

    def _add(self, options: dict[str, Any]) -> None:
        kind = options["kind"]
        try:
            cls = connector_class(kind)
        except NotFound:
            known = ", ".join(k for k, _ in kinds()) or "none"
            raise _fail(f"unknown gateway kind {kind!r} (known: {known})") from None
        credentials: dict[str, str] = {}
        for item in options["credential"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise _fail(f"--credential must be KEY=VALUE, got {item!r}")
            credentials[key.strip()] = value
        missing = [f for f in cls.credential_fields if not credentials.get(f)]
        if missing:
            raise _fail(f"{cls.display_name} needs --credential {missing[0]}=…")
        name = options["name"].strip()
        if not name:
            raise _fail("--name must not be empty")
        if GatewayAccount.objects.filter(name=name).exists():
            raise _fail(f"an account named {name!r} already exists")
        account = GatewayAccount(kind=kind, name=name, default_currency=options["currency"].upper())
        # Assigned, not passed: the stubs type the encrypted column as text, it holds a dict.
        account.credentials = credentials
        if options["webhook_secret"]:
            account.webhook_secret = options["webhook_secret"]
        try:
            cls(account).check_credentials()
        except OperationalError as exc:
            raise CommandError(
                f"Could not reach {cls.display_name} to check the credentials ({exc.message}); "
                "nothing was saved. Try again.",
                returncode=1,
            ) from None
        except BillingdeskError as exc:
            raise _fail(f"{cls.display_name} refused these credentials: {exc.message}") from None
        with transaction.atomic():
            account.save()
        self.stdout.write(f"Connected {account.name} ({cls.display_name}), id {account.id}")
        self.stdout.write(f"Webhook endpoint: {account.webhook_url}")
